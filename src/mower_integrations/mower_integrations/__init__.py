"""The mower in the owner's other systems: Home Assistant over MQTT (:mod:`.ha_mqtt`)."""

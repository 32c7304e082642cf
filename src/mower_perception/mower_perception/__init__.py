"""Camera driver, camera model and ground projection for the mower stack."""

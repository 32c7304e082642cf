"""rclpy.exceptions double (the names rclpy raises for parameters and init)."""


class NotInitializedException(Exception):
    """rclpy.init was not called."""


class ParameterException(Exception):
    """Base of parameter errors."""


class ParameterNotDeclaredException(ParameterException):
    """Get or set of a parameter that was not declared."""


class ParameterAlreadyDeclaredException(ParameterException):
    """Second declaration of one parameter."""


class InvalidParameterTypeException(ParameterException):
    """A value of the wrong type for a statically typed parameter."""


class InvalidParameterValueException(ParameterException):
    """A value a callback or range rejected."""


class ParameterUninitializedException(ParameterException):
    """A parameter declared by type only and never set."""

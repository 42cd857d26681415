"""The one kind of error a form can show: a message for the person, tied to one field."""


class FieldError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

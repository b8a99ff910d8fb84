"""Domain errors raised by services; routes turn them into responses."""


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class InvalidTransition(DomainError):
    status = 409


class Conflict(DomainError):
    status = 409


class ValidationFailed(DomainError):
    status = 422

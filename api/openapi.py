"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json and tested with Schemathesis."""

from __future__ import annotations

from domain.letters.importing import HEADER
from models import Direction, Status


def _string(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


# What the importer refuses in a field (domain.letters.importing.CONTROL, and U+FFFD from bytes
# that were not UTF-8), as a JSON Schema character class; the subject may hold tab and line breaks.
_CONTROL = "\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f\\ufffd"
_CONTROL_MULTILINE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\ufffd"
_ARABIC_LETTER = "[\\u0621-\\u064a\\u0671-\\u06d3\\u06fa-\\u06ff]"  # importing.ARABIC_LETTER
_ENTITY = f"^[^{_CONTROL}]*{_ARABIC_LETTER}[^{_CONTROL}]*$"  # at least one Arabic letter, so never empty
_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _entity(description: str, **extra) -> dict:
    return _string(description + "; holds an Arabic letter", minLength=1, maxLength=200, pattern=_ENTITY, **extra)


LETTER_FIELDS = {
    "number": _string("1 to 12 digits", pattern="^[0-9]{1,12}$", example="1234"),
    "date": _string(
        "the letter's date, YYYY-MM-DD, from 2000-01-01 on, not after today (Baghdad)",
        format="date",
        pattern=_DATE,
        example="2024-03-15",
    ),
    "direction": {
        "type": "string",
        "enum": [d.value for d in Direction],
        "description": "to_federal: from the Region to Baghdad; to_region: the other way",
    },
    "subject": _string("at most 500 characters", maxLength=500, pattern=f"^[^{_CONTROL_MULTILINE}]*$"),
    "sender": _entity("the sending entity's Arabic name", example="وزارة المالية الاتحادية"),
    "recipient": _entity("the receiving entity's Arabic name"),
    "holder": _entity("the Arabic name of the entity holding the letter now"),
    "status": {"type": "string", "enum": [s.value for s in Status]},
    "status_date": _string(
        "the date of the last change of status or holder, YYYY-MM-DD, not after today (Baghdad) and "
        "NOT BEFORE `date` (JSON Schema cannot compare two fields: the API answers 422 with "
        "field `status_date`)",
        format="date",
        pattern=_DATE,
    ),
    "phone": {"type": ["string", "null"], "description": "the citizen's phone (optional; E.164 or Iraqi national)"},
}
REQUIRED = [name for name in HEADER if name not in {"phone", "subject"}]

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "the field at fault"},
        "index": {"type": "integer", "description": "the letter's place in a batch, from 0"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "index": {"type": "integer"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, ref: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


IMPORT = {
    "type": "object",
    "required": ["id", "state", "processed", "added", "updated", "unchanged", "rejected"],
    "properties": {
        "id": {"type": "integer"},
        "state": {"type": "string", "enum": ["pending", "running", "done", "failed"]},
        "filename": {"type": "string"},
        "total_lines": {"type": "integer"},
        "processed": {"type": "integer"},
        "added": {"type": "integer"},
        "updated": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "rejected": {"type": "integer"},
        "rejected_lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"line": {"type": "integer"}, "reason": {"type": "string"}}},
        },
        "rows_per_second": {"type": ["integer", "null"], "description": "while running"},
        "seconds_left": {"type": ["integer", "null"], "description": "while running"},
        "time_left": {"type": ["string", "null"], "description": "seconds_left as m:ss or h:mm:ss"},
        "error": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
        "finished_at": {"type": ["string", "null"]},
    },
}

UNAUTHORISED = _error("no token, or an unknown or revoked one")


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "5599 hotline: records-office API",
            "version": "1.0.0",
            "description": "Letters in (one or a batch, the CSV's fields), one letter out, "
            "and CSV imports run as jobs. Every call needs 'Authorization: Bearer TOKEN' "
            "(tokens: `flask --app wsgi api-tokens create NAME`).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/transactions": {
                "post": {
                    "operationId": "upsertTransactions",
                    "summary": "Create or update one letter, or a batch (all or nothing)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Letter"},
                                        {
                                            "type": "array",
                                            "minItems": 1,
                                            "maxItems": 500,
                                            "description": "at most API_BATCH_MAX letters (500 unless set), "
                                            "each number, date and direction once",
                                            "items": {"$ref": "#/components/schemas/Letter"},
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("stored: counts of letters added, updated and unchanged", "UpsertResult"),
                        "400": _error("not JSON, or not an object or an array"),
                        "401": UNAUTHORISED,
                        "413": _error("too many letters in one batch, or too large a body"),
                        "415": _error("the body is not application/json"),
                        "422": _error("a letter is invalid: `field` (and `index` in a batch) say where"),
                    },
                },
                "get": {
                    "operationId": "getTransactions",
                    "summary": "The letter with this number and date (one per direction when two)",
                    "parameters": [
                        {
                            "name": "number",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
                        },
                        {
                            "name": "date",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "format": "date"},
                        },
                    ],
                    "responses": {
                        "200": _json("the letter(s)", "Letters"),
                        "400": _error("a parameter is missing or malformed; `field` names it"),
                        "401": UNAUTHORISED,
                        "404": _error("no letter has this number and date"),
                    },
                },
            },
            "/imports": {
                "post": {
                    "operationId": "createImport",
                    "summary": "Import a CSV file as a background job",
                    "parameters": [
                        {
                            "name": "filename",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": {
                                "schema": {
                                    "type": "string",
                                    "minLength": 1,
                                    "description": "the CSV file, UTF-8; its first line is the header "
                                    + ",".join(HEADER),
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": _json("accepted; poll the Location for progress", "Import"),
                        "400": _error("empty, or the header is wrong"),
                        "401": UNAUTHORISED,
                        "413": _error("larger than IMPORT_MAX_BYTES"),
                    },
                },
            },
            "/imports/{import_id}": {
                "get": {
                    "operationId": "getImport",
                    "summary": "The progress of an import",
                    "parameters": [
                        {
                            "name": "import_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 0},
                        }
                    ],
                    "responses": {
                        "200": _json("its progress", "Import"),
                        "401": UNAUTHORISED,
                        "404": _error("no import has this id"),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Letter": {
                    "type": "object",
                    "required": REQUIRED,
                    "properties": LETTER_FIELDS,
                    "additionalProperties": False,
                },
                "Letters": {
                    "type": "object",
                    "required": ["transactions"],
                    "properties": {
                        "transactions": {
                            "type": "array",
                            "items": {"type": "object", "required": list(HEADER), "properties": LETTER_FIELDS},
                        }
                    },
                },
                "UpsertResult": {
                    "type": "object",
                    "required": ["added", "updated", "unchanged", "notifications"],
                    "properties": {
                        name: {"type": "integer"} for name in ("added", "updated", "unchanged", "notifications")
                    },
                },
                "Import": IMPORT,
                "Error": ERROR,
            },
        },
    }

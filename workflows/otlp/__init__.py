"""OpenTelemetry traces as runs: OTLP/HTTP exports decoded, mapped to steps and stored.

``wire`` decodes an export and encodes the answers (protobuf or JSON, as the request
was), ``values`` turns attribute values into JSON, ``spans`` maps one span to a step by
the GenAI and OpenInference conventions, ``traces`` groups an export's spans into runs,
and ``ingest`` stores them through the ledger's own path, in one transaction.
"""

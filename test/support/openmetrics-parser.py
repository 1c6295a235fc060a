"""Reads an OpenMetrics exposition on stdin, parses it with prometheus_client's strict OpenMetrics parser and
prints its families as JSON; a parse error is printed on stderr with exit code 1."""
import json
import math
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def number(value):
    # JSON has no NaN or infinities: their OpenMetrics spelling instead.
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    return value


try:
    families = [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "unit": family.unit,
            "samples": [{"name": s.name, "labels": s.labels, "value": number(s.value)} for s in family.samples],
        }
        for family in text_string_to_metric_families(sys.stdin.read())
    ]
except Exception as error:  # the parser raises ValueError, and others on some malformed input
    print(f"{type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)
json.dump(families, sys.stdout)

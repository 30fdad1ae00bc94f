#!/usr/bin/python3
"""Scrapes a Prometheus endpoint and parses it with a parser we did not write (Debian's
python3-prometheus-client). Prints one JSON object: {"name{label=value,...}": value}, labels
sorted, for every cairn_ sample (prometheus-cpp's own exposer_ metrics are parsed, not
printed); exits 1 when the page does not parse or is not the text format.

    scrape.py URL
"""
import json
import math
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        kind = response.headers.get("Content-Type", "")
        if not kind.startswith("text/plain"):
            print(f"content type {kind!r}, want text/plain", file=sys.stderr)
            return 1
        text = response.read().decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        # exposer_*: prometheus-cpp's own, about serving this page.
        if not family.name.startswith(("cairn_", "exposer_")):
            print(f"metric {family.name} lacks the cairn_ prefix", file=sys.stderr)
            return 1
        if not family.name.startswith("cairn_"):
            continue
        for sample in family.samples:
            if not math.isfinite(sample.value):
                print(f"sample {sample.name} is {sample.value}", file=sys.stderr)
                return 1
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            key = f"{sample.name}{{{labels}}}"
            if key in samples:
                print(f"sample {key} given twice", file=sys.stderr)
                return 1
            samples[key] = sample.value
    print(json.dumps(samples, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

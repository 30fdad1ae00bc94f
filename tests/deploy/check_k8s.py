#!/usr/bin/python3
"""The fields of deploy/k8s/*.yaml a cluster (or an operator) would reject, checked without a
cluster: every document has apiVersion, kind and a name; the StatefulSet runs one replica (a log
has one writer), names an existing Service, selects its own pod labels, runs non-root with a
read-only root file system and no privilege escalation, probes gRPC health on its container port,
mounts only volumes it declares, refers only to ConfigMaps it ships, claims storage, and gives
cairnd more than its shutdown deadline to stop. Prints each problem; exit 1 when there is one.
Writes the ConfigMap's cairnd.toml to OUT_DIR/k8s-cairnd.toml for cairnd --check-config.

    check_k8s.py MANIFEST OUT_DIR
"""
import sys

import yaml

SHUTDOWN_DEADLINE_S = 5  # node/main.cc kShutdownDeadline


def check_stateful_set(s, services, config_maps, problems):
    name = s["metadata"]["name"]
    spec = s["spec"]
    if spec.get("replicas") != 1:
        problems.append(f"{name}: replicas must be 1 (one writer per log)")
    if spec.get("serviceName") not in services:
        problems.append(f"{name}: serviceName {spec.get('serviceName')} is no Service here")
    pod = spec["template"]
    labels = pod["metadata"].get("labels", {})
    for k, v in spec["selector"]["matchLabels"].items():
        if labels.get(k) != v:
            problems.append(f"{name}: selector {k}={v} does not match the pod's labels")
    pod_spec = pod["spec"]
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    if grace <= SHUTDOWN_DEADLINE_S * 2:
        problems.append(f"{name}: terminationGracePeriodSeconds {grace} leaves cairnd's "
                        f"{SHUTDOWN_DEADLINE_S} s shutdown no margin")
    if not pod_spec.get("securityContext", {}).get("runAsNonRoot"):
        problems.append(f"{name}: the pod must set runAsNonRoot")
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    claims = {c["metadata"]["name"]: c for c in spec.get("volumeClaimTemplates", [])}
    for c_name, claim in claims.items():
        if not claim["spec"].get("resources", {}).get("requests", {}).get("storage"):
            problems.append(f"{name}: claim {c_name} requests no storage")
    for v in volumes.values():
        ref = v.get("configMap", {}).get("name")
        if ref is not None and ref not in config_maps:
            problems.append(f"{name}: volume {v['name']} refers to ConfigMap {ref}, not here")
    for c in pod_spec.get("initContainers", []) + pod_spec["containers"]:
        where = f"{name}/{c['name']}"
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem must be true")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes and m["name"] not in claims:
                problems.append(f"{where}: mounts undeclared volume {m['name']}")
    main_container = pod_spec["containers"][0]
    ports = {p["containerPort"] for p in main_container.get("ports", [])}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        grpc = main_container.get(probe, {}).get("grpc")
        if grpc is None:
            problems.append(f"{name}: {probe} must be a native gRPC probe (grpc.health.v1)")
        elif grpc.get("port") not in ports:
            problems.append(f"{name}: {probe} port {grpc.get('port')} is no container port")


def main():
    path, out_dir = sys.argv[1], sys.argv[2]
    problems = []
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    by_kind = {}
    for i, d in enumerate(docs):
        for field in ("apiVersion", "kind"):
            if field not in d:
                problems.append(f"document {i}: no {field}")
        if not d.get("metadata", {}).get("name"):
            problems.append(f"document {i}: no metadata.name")
        by_kind.setdefault(d.get("kind"), []).append(d)
    services = {s["metadata"]["name"] for s in by_kind.get("Service", [])}
    config_maps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    if not by_kind.get("StatefulSet"):
        problems.append("no StatefulSet")
    for s in by_kind.get("StatefulSet", []):
        check_stateful_set(s, services, config_maps, problems)
    for cm in config_maps.values():
        if "cairnd.toml" in cm.get("data", {}):
            with open(f"{out_dir}/k8s-cairnd.toml", "w") as f:
                f.write(cm["data"]["cairnd.toml"])
    for p in problems:
        print(f"check_k8s: {path}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn the node profile (nodes.yaml) into a v1 List of Node objects for `kubectl create`.

Usage: render_nodes.py nodes.yaml > nodes.json

Nodes carry the annotation KWOK manages (kwok.x-k8s.io/node: fake) and the path under which
KWOK's kubelet emulation serves each node's /metrics/resource for metrics-server. Addresses
and the kubelet port are left to KWOK's node-initialize stage; pod CIDRs to the
controller-manager's node IPAM.
"""

import json
import sys

import yaml

NVIDIA_GPU = "nvidia.com/gpu"
NODE_INFO_FIELDS = (
    "machineID",
    "systemUUID",
    "bootID",
    "kernelVersion",
    "osImage",
    "containerRuntimeVersion",
    "kubeletVersion",
    "kubeProxyVersion",
)


def gpu_labels(gpu: dict, driver: str) -> dict:
    major, minor, rev = driver.split(".")
    return {
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": gpu["product"],
        "nvidia.com/gpu.family": gpu["family"],
        "nvidia.com/gpu.count": str(gpu["count"]),
        "nvidia.com/gpu.memory": str(gpu["memoryMiB"]),
        "nvidia.com/cuda.driver.major": major,
        "nvidia.com/cuda.driver.minor": minor,
        "nvidia.com/cuda.driver.rev": rev,
        "nvidia.com/cuda.runtime.major": str(gpu["cudaMajor"]),
    }


def node(profile: dict, pool: dict, name: str) -> dict:
    labels = dict(profile.get("commonLabels", {}))
    labels.update(
        {
            "kubernetes.io/arch": pool["arch"],
            "kubernetes.io/hostname": name,
            "node.kubernetes.io/instance-type": pool["instanceType"],
            "topology.kubernetes.io/zone": pool["zone"],
        }
    )
    if pool.get("kata"):
        labels.update(profile["kataLabels"])

    capacity = {k: str(v) for k, v in pool["capacity"].items()}
    allocatable = {k: str(v) for k, v in pool["allocatable"].items()}
    gpu = pool.get("gpu")
    if gpu:
        labels.update(gpu_labels(gpu, profile["nvidiaDriverVersion"]))
        capacity[NVIDIA_GPU] = allocatable[NVIDIA_GPU] = str(gpu["count"])

    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "kwok.x-k8s.io/node": "fake",
                "node.alpha.kubernetes.io/ttl": "0",
                "metrics.k8s.io/resource-metrics-path": f"/metrics/nodes/{name}/metrics/resource",
            },
        },
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            # KWOK's node-initialize stage fills in the versions; the API wants every field.
            "nodeInfo": dict.fromkeys(NODE_INFO_FIELDS, "")
            | {"architecture": pool["arch"], "operatingSystem": "linux"},
        },
    }


def render(profile: dict) -> dict:
    items = [
        node(profile, pool, f"{pool['name']}-{i}")
        for pool in profile["pools"]
        for i in range(pool["count"])
    ]
    return {"apiVersion": "v1", "kind": "List", "items": items}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        json.dump(render(yaml.safe_load(f)), sys.stdout, indent=1)

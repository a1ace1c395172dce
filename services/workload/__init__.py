"""The workload service: tenant workloads in Kata sandboxes, their lifecycle and autoscaling."""

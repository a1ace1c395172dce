"""The cluster service: overview, nodes, namespaces, CRDs and custom resources."""

"""The MoE runtime: a loaded model whose routers are watched and steered per request (``engine``), each
architecture's router (``specs``, ``routing``), steering profiles, attribution and super-expert profiling."""

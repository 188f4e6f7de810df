"""Studies of the service itself, run on demand (`make bench-serving`): `serving` (HTTP latency
vs the raw forward pass, start-up, memory) and `runtimes` (torch vs ONNX fp32/int8, intra-op
spinning, batch sizes). Results and the commands that reproduce them: service/README.md.
"""

"""Build time: the model artifact and how it is made.

`manifest` is the artifact contract (runtimes, precisions and their valid pairs, the files a
model directory holds, the inputs a graph may take); standard library only, so the serving
path and the infra side can import it. `bootstrap` fetches a pinned checkpoint and bakes it
(`python -m service.bake`), `export` turns it into an ONNX graph, `lock_runtime` pins the
image's packages. Importing this package imports nothing.
"""

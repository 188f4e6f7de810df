"""Extractive question answering, framework-free: tokenizer windows, backend forward passes, best span.

`model.QAModel` ties `tokenization` (fast tokenizer, sliding windows with stride), `backends`
(onnx or torch, imported only when used) and `spans` (best-span search) together. Importing
this package imports nothing: the image's bake stage copies only the modules it needs.
"""

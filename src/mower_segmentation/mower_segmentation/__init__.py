"""Lawn / other ground / obstacle segmentation: ONNX Runtime segmenter, baseline, training."""

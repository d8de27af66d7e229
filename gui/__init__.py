"""Upscope's Qt viewer. It shows what `core` computes and never computes pixels itself."""

"""The user's own methods: model files, result images and Python plugins
(`adding`), the model-file loaders (`model_files`) and tiled running (`tiles`).
Importing this package registers nothing: methods appear when the user adds them."""

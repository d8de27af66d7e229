"""Files Upscope ships (see README.md here); a package so they install with it."""

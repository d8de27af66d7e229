"""Show: pictures of results for a screen or a figure (8-bit copies, zoomed-out copies,
coloured difference maps) and the values a person reads off them."""

"""The segmentation classes (label image values), shared by the model, the runtime and mapping."""

CLASSES = ('lawn', 'other', 'obstacle', 'sky')  # index = class id in label images
LAWN, OTHER, OBSTACLE, SKY = range(4)
IGNORE = 255  # pixels without a label (for example the mower's own body)

#: Normalisation of the network input: (rgb / 255 - MEAN) / STD, per channel.
MEAN = (0.45, 0.50, 0.40)
STD = (0.25, 0.25, 0.25)

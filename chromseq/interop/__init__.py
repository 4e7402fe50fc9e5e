"""Published models in: read other tools' weight files into chromseq run directories.

``importers`` turns the published DeepSEA, Beluga and DanQ weights into runs;
``torch_weights`` reads PyTorch ``.pth`` files without torch; ``keras1_weights`` reads the
HDF5 weight files of Keras 0.x/1.x. Standard files out: ``export`` writes a run's model as a
TensorFlow SavedModel or an ONNX file.
"""

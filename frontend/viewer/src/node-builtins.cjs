// Node.js's own modules, asked for by code paths a browser never takes (the codecs' Node
// branches, vtk.js's XML readers): an empty stand-in, so the bundle loads without them.
module.exports = {};

// Stands in for vtk.js's mesh file readers (see build.mjs): the viewer shows no surface mesh.
function newInstance() {
  throw new Error("This viewer reads no mesh files.");
}
export default { newInstance };

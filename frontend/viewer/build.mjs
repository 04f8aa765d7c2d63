// Rebuilds static/viewer/ (committed, so `make run` needs no Node) from src/ and the exact
// package versions in package-lock.json:   cd frontend/viewer && npm ci && npm run build
//
// viewer.js            the page's script (Cornerstone3D core and tools, the DICOM loader)
// decodeImageFrameWorker.js   the loader's decoding worker, found next to viewer.js
// *.wasm               the codecs the worker loads for JPEG, JPEG-LS and JPEG 2000 images
// THIRD-PARTY-LICENSES.txt   the licence of every package bundled
import { build } from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";

const out = new URL("../../static/viewer/", import.meta.url).pathname;
const codecs = {
  "@cornerstonejs/codec-libjpeg-turbo-8bit/dist": "libjpegturbowasm_decode.wasm",
  "@cornerstonejs/codec-charls/dist": "charlswasm_decode.wasm",
  "@cornerstonejs/codec-openjpeg/dist": "openjpegwasm_decode.wasm",
};
// The portal's CSP allows no style attributes (style-src 'self'). Cornerstone's text boxes
// set theirs with setAttribute("style", …), which the browser refuses; the same rules set
// through the element's style object are allowed. The build fails if the line moves.
const styleAttribute = {
  name: "style-through-cssom",
  setup(build) {
    build.onLoad({ filter: /drawingSvg[\\/]drawTextBox\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const line = "textElement.setAttribute('style', combinedStyle);";
      if (!source.includes(line)) {
        throw new Error(`${args.path} changed: check how its text style is set.`);
      }
      return { contents: source.replace(line, "textElement.style.cssText = combinedStyle;"), loader: "js" };
    });
  },
};
const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
  plugins: [styleAttribute],
  alias: Object.fromEntries(
    ["fs", "path", "module", "url", "crypto", "worker_threads"].map((name) => [name, "./src/node-builtins.cjs"]),
  ),
};

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const bundled = new Set();
const note = (result) => {
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) bundled.add(match[1]);
  }
};
note(await build({ ...common, entryPoints: { viewer: "src/viewer.js" }, outdir: out }));
note(await build({
  ...common,
  entryPoints: {
    decodeImageFrameWorker:
      "node_modules/@cornerstonejs/dicom-image-loader/dist/esm/decodeImageFrameWorker.js",
  },
  outdir: out,
}));
for (const [folder, name] of Object.entries(codecs)) {
  await copyFile(`node_modules/${folder}/${name}`, `${out}${name}`);
}
await writeFile(`${out}THIRD-PARTY-LICENSES.txt`, await licences([...bundled].sort()));
console.log((await readdir(out)).sort().join("\n"));

async function licences(names) {
  const parts = [];
  for (const name of names) {
    const folder = `node_modules/${name}`;
    const about = JSON.parse(await readFile(`${folder}/package.json`, "utf8"));
    const file = (await readdir(folder)).find((entry) => /^(licen[cs]e|copying)/i.test(entry));
    const text = file ? await readFile(`${folder}/${file}`, "utf8") : `License: ${about.license}`;
    parts.push(`${name} ${about.version} (${about.license})\n\n${text.trim()}\n`);
  }
  return parts.join(`\n${"-".repeat(78)}\n\n`);
}

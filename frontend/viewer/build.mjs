// Rebuilds static/viewer/ (committed, so `make run` needs no Node) from src/ and the exact
// package versions in package-lock.json:   cd frontend/viewer && npm ci && npm run build
//
// viewer.js            the page's script (src/viewer.js): asks for the first series and
//                      loads the viewer (src/page.js), which the first image needs
// chunk-<hash>.js      the viewer and the code it imports, and the tools and measurements
//                      (src/tools.js), fetched once the first image is drawn; named by
//                      their content, so they are cached for good (config/static.py)
// decodeImageFrameWorker.js   the loader's decoding worker, found next to viewer.js
// *.wasm               the codecs the worker loads for JPEG, JPEG-LS and JPEG 2000 images
// THIRD-PARTY-LICENSES.txt   the licence of every package bundled
// templates/reviews/_viewer_modules.html   the page's preload links for viewer.js's chunks
import { build } from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";

const out = new URL("../../static/viewer/", import.meta.url).pathname;
const preloads = new URL("../../templates/reviews/_viewer_modules.html", import.meta.url).pathname;
const codecs = {
  "@cornerstonejs/codec-libjpeg-turbo-8bit/dist": "libjpegturbowasm_decode.wasm",
  "@cornerstonejs/codec-charls/dist": "charlswasm_decode.wasm",
  "@cornerstonejs/codec-openjpeg/dist": "openjpegwasm_decode.wasm",
};
// Two changes to the libraries, made as they are bundled; the build fails if the code they
// replace moves, so an upgrade is checked by hand.
const PATCHES = {
  // The portal's CSP allows no style attributes (style-src 'self'). Cornerstone's text boxes
  // set theirs with setAttribute("style", …), which the browser refuses; the same rules set
  // through the element's style object are allowed.
  "drawingSvg/drawTextBox.js": [
    ["textElement.setAttribute('style', combinedStyle);", "textElement.style.cssText = combinedStyle;"],
  ],
  // OpenJPEG reports a code stream it cannot read only in the console, and the decoder the
  // loader keeps for every image then hands back the previous image's pixels: another
  // image would be shown as this one. A decoder of its own for each image (its pixels
  // copied out before it is freed) reads nothing from a broken stream, which is refused,
  // so the viewer says this image cannot be displayed.
  "shared/decoders/decodeJPEG2000.js": [
    ["const decoder = local.decoder;", "const decoder = new local.codec.J2KDecoder();"],
    [
      "const frameInfo = decoder.getFrameInfo();",
      "const frameInfo = decoder.getFrameInfo();\n" +
        "    if (!frameInfo.width || !frameInfo.height) {\n" +
        "        decoder.delete();\n" +
        "        throw new Error('The JPEG 2000 code stream could not be decoded.');\n" +
        "    }",
    ],
    [
      "const pixelData = getPixelData(frameInfo, decodedBufferInWASM);",
      "const pixelData = getPixelData(frameInfo, decodedBufferInWASM.slice());\n    decoder.delete();",
    ],
  ],
};
const applied = new Set();
const patched = {
  name: "patched",
  setup(build) {
    const files = Object.keys(PATCHES).map((file) => file.replaceAll(".", "\\.")).join("|");
    build.onLoad({ filter: new RegExp(`@cornerstonejs/.*/(${files})$`) }, async (args) => {
      let source = await readFile(args.path, "utf8");
      const file = Object.keys(PATCHES).find((name) => args.path.endsWith(name));
      for (const [from, to] of PATCHES[file]) {
        if (!source.includes(from)) {
          throw new Error(`${args.path} changed: check the patch for “${from}”.`);
        }
        source = source.replace(from, to);
      }
      applied.add(file);
      return { contents: source, loader: "js" };
    });
  },
};
// Parts of the libraries this viewer never uses, left out. Cornerstone's surface meshes read
// their files with vtk.js's readers (PLY, STL, OBJ, VTP: 330 kB with the XML and YAML
// libraries behind them); this viewer shows no mesh, so a reader is a stand-in that says so.
// vtk.js's rendering profiles register its WebGL and its WebGPU classes; Cornerstone draws
// with WebGL only, so only the WebGL half is taken. The loader's package index would bring
// its decoders onto the page (they run in its worker): only its init is imported.
const VTK = "@kitware/vtk.js/";
const slimmed = {
  name: "slimmed",
  setup(build) {
    build.onResolve({ filter: /^@kitware\/vtk\.js\/IO\// }, () => ({
      path: new URL("src/no-mesh-reader.js", import.meta.url).pathname,
    }));
    build.onResolve({ filter: /^@kitware\/vtk\.js\/Rendering\/Profiles\/(Volume|Geometry)\.js$/ }, (args) =>
      build.resolve(args.path.replace(`${VTK}Rendering/Profiles/`, `${VTK}Rendering/OpenGL/Profiles/`), {
        kind: args.kind,
        resolveDir: args.resolveDir,
      }),
    );
  },
};
// Cornerstone's packages say they have no side effects ("sideEffects": false in their
// package.json), so a bundler may leave out each of their modules the viewer does not use;
// but the package.json in their dist/esm folder, nearer to the modules, does not repeat it,
// and esbuild then keeps every module an index names (every tool, segmentation, volume
// cropping…). Said again here, for the modules of those packages only.
const SIDE_EFFECT_FREE = /\/node_modules\/@cornerstonejs\/(core|tools|metadata|utils)\/dist\/esm\//;
const declared = {
  name: "declared",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.declared) {
        return undefined;
      }
      const { importer, kind, resolveDir } = args;
      const found = await build.resolve(args.path, { importer, kind, resolveDir, pluginData: { declared: true } });
      if (found.errors.length || !SIDE_EFFECT_FREE.test(found.path)) {
        return undefined;
      }
      return { path: found.path, namespace: found.namespace, suffix: found.suffix, sideEffects: false };
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
  plugins: [patched, slimmed, declared],
  alias: {
    ...Object.fromEntries(
      ["fs", "path", "module", "url", "crypto", "worker_threads"].map((name) => [name, "./src/node-builtins.cjs"]),
    ),
    "dicom-image-loader-init": "./node_modules/@cornerstonejs/dicom-image-loader/dist/esm/init.js",
  },
};

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const bundled = new Set();
// The packages with code in the files written (not those read and then left out whole).
const note = (result) => {
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
      if (match && bytesInOutput > 0) bundled.add(match[1]);
    }
  }
};
const page = await build({
  ...common,
  entryPoints: { viewer: "src/viewer.js" },
  splitting: true,
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  outdir: out,
});
note(page);
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
for (const file of Object.keys(PATCHES)) {
  if (!applied.has(file)) {
    throw new Error(`${file} was not bundled: check the patch.`);
  }
}
await writeFile(`${out}THIRD-PARTY-LICENSES.txt`, await licences([...bundled].sort()));
await writeFile(preloads, preloadLinks(page.metafile));
console.log((await readdir(out)).sort().join("\n"));

// What the first image needs, fetched with the page rather than one after the other: the
// modules viewer.js imports at once (page.js and the chunks it needs), not the tools that
// come after the first image. Each is a file named by its content, so the same address in
// every environment, outside the static files' manifest.
function preloadLinks(metafile) {
  const [entry] = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint === "src/viewer.js");
  const needed = new Set();
  const take = (file, kinds) => {
    for (const { path, kind } of metafile.outputs[file].imports) {
      if (kinds.includes(kind) && !needed.has(path)) {
        needed.add(path);
        take(path, ["import-statement"]);
      }
    }
  };
  take(entry, ["import-statement", "dynamic-import"]);
  const links = [...needed].map((path) => `<link rel="modulepreload" href="{% static 'viewer/' %}${path.split("/").pop()}">`);
  return `{% load static %}{# Written by frontend/viewer/build.mjs. #}\n${links.join("\n")}\n`;
}

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

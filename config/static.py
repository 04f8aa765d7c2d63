"""Static files: whitenoise, with the imaging viewer's chunks cached for good too."""

import re

from whitenoise.middleware import WhiteNoiseMiddleware

# The chunks of the imaging viewer (frontend/viewer/build.mjs) are named by their content
# (esbuild's hash) and imported by that name, not through the static files' manifest.
VIEWER_CHUNK = re.compile(r"/viewer/chunk-[A-Z2-7]{8}\.js$")


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """Whitenoise as it is (fingerprinted files cached for a year, marked immutable; the
    compressed copies made by collectstatic sent to browsers that accept them), and the
    viewer's chunks treated as the fingerprinted files they are."""

    def immutable_file_test(self, path: str, url: str) -> bool:
        return bool(VIEWER_CHUNK.search(url)) or super().immutable_file_test(path, url)

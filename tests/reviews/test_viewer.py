"""The viewer page of the reviewer workspace (its script is tested in tests/browser/)."""

import io
import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.http import HttpResponseNotFound
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import reverse

from config.static import StaticFilesMiddleware
from records.models import AccessLog
from tests.conftest import sign_in
from tests.helpers import ScriptAudit
from tests.records.imaging import stored_imaging, study_zip, with_patient

pytestmark = pytest.mark.django_db

CT = with_patient("CT_small.dcm")
MR = with_patient("MR_small.dcm", SeriesNumber=2)


def viewer_url(document):
    return reverse("reviews:viewer", args=[document.request.reference, document.pk])


def config_of(response) -> dict:
    html = response.content.decode()
    start = html.index('data-config="') + len('data-config="')
    return json.loads(unescape(html[start : html.index('"', start)]))


def test_the_case_page_opens_each_study_in_the_viewer(client, family_request, assigned_reviewer):
    study = stored_imaging(family_request, study_zip(CT, MR))
    sign_in(client, assigned_reviewer)

    page = client.get(reverse("reviews:case", args=[family_request.reference])).content.decode()

    assert page.count("Open in the viewer") == 1  # the study, not the family's PDF
    assert viewer_url(study) in page


def test_the_viewer_lists_the_series_and_gives_its_script_the_addresses(
    client, family_request, assigned_reviewer
):
    study = stored_imaging(family_request, study_zip(CT, MR))
    sign_in(client, assigned_reviewer)

    response = client.get(viewer_url(study))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Series 1 · CT · 1 image" in page
    assert "Series 2 · MR · 1 image" in page
    config = config_of(response)
    assert config["seriesUrls"] == {
        "1": reverse("records:series_open", args=[study.pk, 1]),
        "2": reverse("records:series_open", args=[study.pk, 2]),
    }
    assert config["measurementsUrl"] == reverse(
        "reviews:measurements", args=[family_request.reference, study.pk]
    )
    assert config["assets"] == f"{settings.STATIC_URL}viewer/"
    assert config["canEdit"] is True
    for tool in ("Length", "Angle", "Cobb angle", "Arrow"):
        assert f">{tool}</button>" in page
    # Nothing the strict CSP would refuse: the settings travel as data, the script is a file.
    audit = ScriptAudit()
    audit.feed(page)
    assert (audit.inline_scripts, audit.handlers) == (0, [])
    assert "Rivera" not in page  # the file's patient fields never reach the page


def test_the_bundle_the_page_loads_is_in_the_repository():
    """``make run`` needs no Node: the built viewer, its decoding worker and codecs are
    committed (frontend/viewer/build.mjs rebuilds them)."""
    built = Path(settings.BASE_DIR) / "static" / "viewer"

    names = {path.name for path in built.iterdir()}

    assert {"viewer.js", "decodeImageFrameWorker.js", "THIRD-PARTY-LICENSES.txt"} <= names
    assert {"charlswasm_decode.wasm", "openjpegwasm_decode.wasm"} <= names
    # The page preloads exactly what the first image needs, and it is there.
    links = Path(settings.BASE_DIR) / "templates" / "reviews" / "_viewer_modules.html"
    preloaded = set(re.findall(r"(chunk-[A-Z2-7]{8}\.js)", links.read_text()))
    assert preloaded == first_image_modules(built)
    assert preloaded <= names


def first_image_modules(built: Path) -> set[str]:
    """The chunks viewer.js imports at once, and theirs; not the tools page.js imports
    once the first image is drawn."""
    needed = set(
        re.findall(
            r'(?:from|import\(?)"\./(chunk-[A-Z2-7]{8}\.js)"', (built / "viewer.js").read_text()
        )
    )
    pending = list(needed)
    while pending:
        script = (built / pending.pop()).read_text()
        for name in re.findall(r'(?:from|import)"\./(chunk-[A-Z2-7]{8}\.js)"', script):
            if name not in needed:
                needed.add(name)
                pending.append(name)
    assert needed
    return needed


def test_the_viewers_scripts_are_sent_compressed_and_kept_by_browsers(tmp_path, settings):
    """Production's static files (collectstatic with whitenoise's compressed, fingerprinted
    storage): viewer.js (fingerprinted by the manifest) and its chunks (named by their
    content) are sent with Brotli to a browser that accepts it, gzipped to one that accepts
    only gzip, and marked immutable for a year."""
    source = tmp_path / "source"
    shutil.copytree(Path(settings.BASE_DIR) / "static" / "viewer", source / "viewer")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "root"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    serve = StaticFilesMiddleware(lambda request: HttpResponseNotFound())
    entry = static("viewer/viewer.js")
    assert entry != "/static/viewer/viewer.js"  # fingerprinted
    chunks = [path.name for path in (source / "viewer").glob("chunk-*.js")]
    assert chunks
    for url in [entry, *(f"/static/viewer/{name}" for name in chunks)]:
        for accepted, sent in (("gzip, deflate, br", "br"), ("gzip, deflate", "gzip")):
            response = serve(RequestFactory().get(url, HTTP_ACCEPT_ENCODING=accepted))
            assert response.status_code == 200, url
            assert response["Content-Encoding"] == sent
            assert response["Cache-Control"] == "max-age=315360000, public, immutable"
            response.close()


def test_once_the_letter_is_signed_the_viewer_shows_but_no_longer_measures(client, signed):
    request, (lead, *_) = signed
    study = stored_imaging(request, CT, name="IM0001.dcm")
    sign_in(client, lead)

    response = client.get(viewer_url(study))

    assert config_of(response)["canEdit"] is False
    assert ">Cobb angle</button>" not in response.content.decode()


def test_a_file_that_is_not_imaging_has_no_viewer(client, family_request, assigned_reviewer):
    pdf = family_request.documents.get()
    sign_in(client, assigned_reviewer)
    AccessLog.objects.all().delete()

    response = client.get(viewer_url(pdf))

    assert response.status_code == 404
    assert list(AccessLog.objects.values_list("outcome", "document_id")) == [("denied", pdf.pk)]


def test_a_study_changed_in_storage_is_not_shown_and_the_attempt_is_logged(
    client, family_request, assigned_reviewer
):
    study = stored_imaging(family_request, study_zip(CT, MR))
    default_storage.delete(study.storage_key)
    default_storage.save(study.storage_key, io.BytesIO(study_zip(MR, CT)))
    sign_in(client, assigned_reviewer)

    response = client.get(viewer_url(study))

    assert response.status_code == 500
    assert "no longer matches" in response.content.decode()
    assert AccessLog.objects.filter(outcome="corrupt", document_id=study.pk).count() == 1

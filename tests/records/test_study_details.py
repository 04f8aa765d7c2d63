"""The study details a reviewer reads next to the previews."""

from records.templatetags.records import study_details


def test_study_details_have_readable_labels_and_dates_and_leave_out_blanks():
    metadata = {
        "study": {
            "Modality": "MR",
            "BodyPartExamined": "",
            "StudyDate": "20040119",
            "StudyDescription": "Lumbar spine",
        }
    }

    rows = study_details(metadata)

    assert rows == [("Modality", "MR"), ("Study date", "2004-01-19"), ("Study", "Lumbar spine")]


def test_a_file_without_study_details_has_none():
    assert study_details({}) == []

from django import forms
from django.utils.translation import gettext_lazy as _

from records.services import ACCEPTED_BY_KIND

# What a person may say a file is: the kinds the upload service accepts (never "opinion").
UPLOADABLE_KINDS = list(ACCEPTED_BY_KIND)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is it?"), choices=[(kind.value, kind.label) for kind in UPLOADABLE_KINDS]
    )
    file = forms.FileField(
        label=_("File"),
        error_messages={"required": _("Choose a file to send."), "empty": _("This file is empty.")},
        widget=forms.ClearableFileInput(attrs={"multiple": False}),
    )

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds:
            self.fields["kind"].choices = [(kind.value, kind.label) for kind in kinds]

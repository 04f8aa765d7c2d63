from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from reviews.models import (
    Agreement,
    Conclusion,
    DeclineReason,
    NextStep,
    OutreachMethod,
    PediatricianChannel,
)

TEXT = {"rows": 5}


class OpinionForm(forms.Form):
    """A reviewer's opinion. Every field may be blank while drafting; submitting checks
    that the required ones are answered (the service says which are missing)."""

    agrees_with_diagnosis = forms.ChoiceField(
        label="Do you agree with the prior diagnosis?",
        choices=Agreement.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    agrees_with_plan = forms.ChoiceField(
        label="Do you agree with the care plan?",
        choices=Agreement.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    findings = forms.CharField(widget=forms.Textarea(attrs=TEXT), required=False)
    recommendations = forms.CharField(widget=forms.Textarea(attrs=TEXT), required=False)
    answers = forms.CharField(
        label="Answers to the family's questions",
        widget=forms.Textarea(attrs=TEXT),
        required=False,
    )
    next_steps = forms.MultipleChoiceField(
        label="Suggested next steps",
        choices=NextStep.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    next_steps_note = forms.CharField(
        label="Other next steps", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    amendment_reason = forms.CharField(
        label="Why you amend your opinion",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, amendment: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not amendment:
            del self.fields["amendment_reason"]


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why do you decline?", choices=DeclineReason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Anything the coordinator should know",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required for “Other”. Do not describe the patient.",
    )


class FinalOpinionForm(forms.Form):
    conclusion = forms.ChoiceField(
        label="Overall conclusion",
        choices=Conclusion.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    recommendations = forms.CharField(widget=forms.Textarea(attrs=TEXT), required=False)
    answers = forms.CharField(
        label="Answers to the family's questions",
        widget=forms.Textarea(attrs=TEXT),
        required=False,
    )
    dissent = forms.CharField(
        label="Members' dissent",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required when a member's opinion differs from the conclusion.",
    )
    family_summary = forms.CharField(
        label="Summary for the family",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="A few plain sentences the family reads first.",
    )
    signed_name = forms.CharField(
        label="Sign with your full name",
        required=False,
        help_text="Only when you sign: the letter is then final.",
    )


class PanelForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    lead = forms.ModelChoiceField(queryset=User.objects.none(), widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason for the change",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required when someone is taken off the panel.",
    )

    def __init__(self, *args, eligible, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = eligible
        self.fields["lead"].queryset = eligible
        self.fields["reviewers"].label_from_instance = _with_load
        self.fields["lead"].label_from_instance = lambda user: user.full_name or user.email


def _with_load(user) -> str:
    load = getattr(user, "open_reviews", 0)
    overdue = getattr(user, "overdue_reviews", 0)
    text = f"{user.full_name or user.email} — {load} open review{'s' if load != 1 else ''}"
    if overdue:
        text += f", {overdue} overdue"
    if not user.reviewer_profile.available:
        text += " (marked unavailable)"
    return text


class DeliveryForm(forms.Form):
    outreach_method = forms.ChoiceField(
        label="How you reached the family", choices=OutreachMethod.choices, widget=forms.RadioSelect
    )
    outreach_note = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    pediatrician_channel = forms.ChoiceField(
        label="Send the letter to the referring pediatrician",
        choices=[("", "Do not send"), *PediatricianChannel.choices],
        widget=forms.RadioSelect,
        required=False,
    )


class FollowUpForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class FollowUpAnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)

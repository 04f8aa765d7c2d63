"""A review in progress at each of its stages: in review, with its panel of three, every
opinion submitted, the letter signed, the opinion delivered."""

import pytest

from reviews import services
from tests.reviews.panel_setup import case_in_review, deliver, pool_reviewer, sign, submit_opinions

# The panel, the lead first.
NAMES = ("Ana Lopez", "Ben Kim", "Cara Nwosu")


@pytest.fixture
def case(family, coordinator):
    """In review, read by three, no panel yet."""
    return case_in_review(family=family, coordinator=coordinator)


@pytest.fixture
def panel(case, coordinator):
    """``case`` and its reviewers, all three in the service's pool; the first leads."""
    reviewers = [pool_reviewer(case.service, name) for name in NAMES]
    services.panel_set(
        review_request=case, reviewers=reviewers, lead=reviewers[0], actor=coordinator
    )
    return case, reviewers


@pytest.fixture
def submitted(panel):
    """Every member has submitted an opinion agreeing with the diagnosis and the plan."""
    request, reviewers = panel
    submit_opinions(request, reviewers)
    return request, reviewers


@pytest.fixture
def signed(submitted):
    """The lead has signed the letter: the opinion is ready to deliver."""
    request, reviewers = submitted
    sign(request, reviewers[0])
    request.refresh_from_db()
    return request, reviewers


@pytest.fixture
def delivered(signed, coordinator):
    """The coordinator has called the family and delivered the opinion."""
    request, reviewers = signed
    deliver(request, coordinator)
    request.refresh_from_db()
    return request, reviewers

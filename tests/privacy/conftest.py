from tests.channels.conftest import make_media  # noqa: F401  (shared fixture)
from tests.web.public.conftest import publish  # noqa: F401  (an article on the website)

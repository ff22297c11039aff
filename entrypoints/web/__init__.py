from typing import TypeAlias

import falcon

# The Falcon app of this package, with Falcon's own request and response classes.
WebApp: TypeAlias = "falcon.App[falcon.Request, falcon.Response]"

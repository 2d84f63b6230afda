"""The HTTP Task's client (``arn:aws:states:::http:invoke``): the app's named connections and
their credentials, the request as Step Functions builds it, outbound safety (which addresses a
call may reach), and the response and errors as Step Functions shapes them."""

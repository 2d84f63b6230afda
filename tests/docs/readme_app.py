"""The app the README's ``legato.Client`` example talks to (served by ``legato dev``)."""

import legato

app = legato.App()


@app.workflow()
async def checkout(ctx: legato.Context, order_id: str) -> str:
    return f"checked out {order_id}"

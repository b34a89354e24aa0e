"""aiokafka client options from the ``kafka.client`` config section."""
from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context

from crowdstream.config import KafkaClient


def client_options(client: KafkaClient) -> dict[str, Any]:
    """Keyword arguments every aiokafka client (producer, consumer, admin) takes."""
    options: dict[str, Any] = {"client_id": client.client_id,
                               "security_protocol": client.security_protocol}
    if client.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=str(client.ssl_cafile) if client.ssl_cafile else None,
            certfile=str(client.ssl_certfile) if client.ssl_certfile else None,
            keyfile=str(client.ssl_keyfile) if client.ssl_keyfile else None,
        )
    if client.security_protocol.startswith("SASL"):
        options.update(sasl_mechanism=client.sasl_mechanism or "PLAIN",
                       sasl_plain_username=client.sasl_plain_username,
                       sasl_plain_password=client.sasl_plain_password)
    return options

"""federal connector: BCSS/SSDN SOAP transport (zeep) and the NovaPrima simulator.

Modules (import what you need; this package module stays light for the pytest plugin):
``dis`` (our DIS payloads), ``envelope`` (real SSDN envelope), ``schemas`` (compiled XSDs, validation),
``safexml`` (hardened parsing), ``client`` (zeep client), ``simulator`` (WSGI + lxml + SQLite),
``admin`` (simulator admin client), ``testing`` (pytest fixtures).
"""

__all__: list[str] = []

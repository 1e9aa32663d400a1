"""federal connector: BCSS/SSDN SOAP transport (zeep) and the NovaPrima simulator."""

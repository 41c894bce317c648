"""Where the journey's places are: the field (never to be shown), the warehouse, the home."""

FARM_AT = (118.7801, 36.8602)  # the field: never shown, not even on the journey's map
PRODUCER_PHONE = "13912345678"
WAREHOUSE_AT = (116.4705, 39.9965)  # 望京
HOME_AT = (116.4720, 39.9980)
HOME_ADDRESS = "北京市朝阳区望京街道阜通东大街 6 号院 3 号楼 1201"
BUYER_CARD = "6200000000000777"

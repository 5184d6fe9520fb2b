print("imjoy")

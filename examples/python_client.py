# The client from seed 004 ("Client Python"), unchanged except for `import time`, which the
# seed's snippet uses but forgot to import, and `--url` (default ws://localhost:8000, the
# seed's address). Run a hub (`cargo run --release`), then:
#   pip install -r examples/requirements.txt && python examples/python_client.py [--url ws://HOST:PORT]
import argparse
import asyncio
import json
import time

import websockets

parser = argparse.ArgumentParser(description="seed 004's client: connect as a ui, ping once")
parser.add_argument("--url", default="ws://localhost:8000/", help="the hub (default ws://localhost:8000)")
URL = parser.parse_args().url.rstrip("/").replace("http", "ws", 1)  # http(s):// works too

async def connect():
    uri = URL + "/ws/my_client?client_type=ui"
    
    async with websockets.connect(uri) as websocket:
        # Recevoir message de bienvenue
        welcome = await websocket.recv()
        print(f"Connecté: {welcome}")
        
        # Envoyer un message
        message = {
            "message_type": "ping",
            "client_id": "my_client",
            "timestamp": time.time()
        }
        await websocket.send(json.dumps(message))
        
        # Recevoir réponse
        response = await websocket.recv()
        print(f"Reçu: {response}")

asyncio.run(connect())

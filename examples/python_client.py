# The client from seed 004 ("Client Python"), unchanged except for `import time`, which the
# seed's snippet uses but forgot to import. Run a hub (`cargo run --release`), then:
#   pip install websockets && python examples/python_client.py
import asyncio
import json
import time

import websockets

async def connect():
    uri = "ws://localhost:8000/ws/my_client?client_type=ui"
    
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

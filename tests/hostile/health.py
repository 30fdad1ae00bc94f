#!/usr/bin/python3
"""grpc.health.v1.Health/Check of each SERVICE on ADDRESS, by a client we did not write (Debian's
python3-grpcio, the request and response decoded by hand: HealthCheckRequest{service = 1} and
HealthCheckResponse{status = 1}). Prints one line per service: NAME STATUS.

    health.py ADDRESS SERVICE...      ("" names the server as a whole)
"""
import sys

import grpc

STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def main():
    address, services = sys.argv[1], sys.argv[2:]
    identity = lambda b: b  # noqa: E731
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check", identity, identity)
        for service in services:
            name = service.encode()
            request = (b"\x0a" + bytes([len(name)]) + name) if name else b""
            try:
                response = check(request, timeout=5)
                status = response[1] if len(response) >= 2 and response[0] == 0x08 else 0
                print(f"{service or '(server)'} {STATUS.get(status, str(status))}")
            except grpc.RpcError as e:
                print(f"{service or '(server)'} {e.code().name}")


if __name__ == "__main__":
    main()

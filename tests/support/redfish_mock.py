#!/usr/bin/env python3
"""A minimal Redfish service for the tests: no Redfish BMC emulator is
packaged in Debian. HTTPS on one loopback address and port, serving the
service root, a SessionService, one ComputerSystem with PowerState and its
Reset action, and task monitors.

  redfish_mock.py --port=N --cert=F --key=F [options]

  --bind=ADDR            address to listen on (127.0.0.1)
  --user=NAME --password=PW
                         the one account (admin / s3cret-redfish)
  --system-id=ID         the system's id (1)
  --state=On|Off         the power state at start (Off)
  --power-delay-ms=N     how long PoweringOn/PoweringOff last after a reset (0)
  --busy=N               answer the first N requests 503 with Retry-After: 0
  --task                 answer a reset 202 Accepted with a task monitor
                         that runs for the power delay
  --no-sessions          no SessionService: basic authentication only
  --reset-types=A,B      the ResetType values allowed (On,ForceOff,
                         GracefulShutdown,ForceRestart,PushPowerButton)
  --action-info          list them in an ActionInfo resource instead of
                         ResetType@Redfish.AllowableValues
  --odd-shapes           Links and Actions as strings, not objects (a BMC
                         the client must survive)
  --on-command=CMD       run with sh -c when the system powers on
  --off-command=CMD      run with sh -c when it powers off (its host stops)
  --host-pidfile=FILE    while On, the system goes Off when the process
                         this file names is gone: its host shut itself down
  --log=FILE             one line per request: METHOD PATH AUTH STATUS,
                         AUTH being token, basic or none

The tests check this service's conformance for its subset with
independent clients (redfishtool, python3-sushy) in the same run.
"""
import argparse
import base64
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time


class State:
    lock = threading.Lock()
    user = "admin"
    password = "s3cret-redfish"
    system_id = "1"
    power = "Off"
    target_power = None  # where a transition ends
    change_at = 0.0
    delay_s = 0.0
    busy = 0
    task = False
    sessions_enabled = True
    reset_types = ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "PushPowerButton"]
    action_info = False
    odd_shapes = False
    on_command = None
    off_command = None
    log = None
    host_pidfile = None
    sessions = {}  # token -> session id
    next_session = 1
    tasks = {}  # id -> when its task ends
    next_task = 1


def host_alive():
    try:
        with open(State.host_pidfile) as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def settle():
    """Finishes a transition whose time has come, and notices a host that
    shut itself down. Holds State.lock."""
    if (State.host_pidfile and State.power == "On" and State.target_power is None
            and not host_alive()):
        State.power = "Off"
    if State.target_power is not None and time.monotonic() >= State.change_at:
        State.power = State.target_power
        State.target_power = None
        command = State.on_command if State.power == "On" else State.off_command
        if command:
            subprocess.run(["sh", "-c", command], check=False)


def start_transition(to):
    """Holds State.lock."""
    if State.power == to and State.target_power is None:
        return
    State.target_power = to
    State.change_at = time.monotonic() + State.delay_s
    if State.delay_s > 0:
        State.power = "PoweringOn" if to == "On" else "PoweringOff"
    settle()


def error_body(message, message_id):
    return {
        "error": {
            "code": "Base.1.8.GeneralError",
            "message": "A general error has occurred. See ExtendedInfo for more information.",
            "@Message.ExtendedInfo": [{
                "@odata.type": "#Message.v1_1_1.Message",
                "MessageId": message_id,
                "Message": message,
                "Severity": "Critical",
                "Resolution": "None",
            }],
        }
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def record(self, status):
        if State.log:
            with open(State.log, "a") as f:
                f.write("%s %s %s %d\n" % (self.command, self.path, self.auth_kind, status))

    def reply(self, status, body=None, headers=()):
        # Logged before the answer leaves: a client that has its answer
        # finds its request in the log.
        self.record(status)
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("OData-Version", "4.0")
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            # The client asked to close (sushy always does). Saying so keeps
            # it from sending its next request on this connection while
            # the close is still on its way (RFC 9112, section 9.6).
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authenticate(self):
        """Sets self.auth_kind; True when the request may go on."""
        token = self.headers.get("X-Auth-Token")
        basic = self.headers.get("Authorization", "")
        if token is not None:
            self.auth_kind = "token"
            return token in State.sessions
        if basic.startswith("Basic "):
            self.auth_kind = "basic"
            try:
                user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            except Exception:
                return False
            return user == State.user and password == State.password
        self.auth_kind = "none"
        return False

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def handle_any(self):
        self.auth_kind = "none"
        path = self.path.split("?")[0].rstrip("/") or "/"
        with State.lock:
            if State.busy > 0:
                State.busy -= 1
                self.body()
                self.reply(503, error_body("The service is temporarily unavailable.",
                                           "Base.1.8.ServiceTemporarilyUnavailable"),
                           [("Retry-After", "0")])
                return
            settle()
            if path in ("/redfish", "/redfish/v1") and self.command == "GET":
                if path == "/redfish":
                    self.reply(200, {"v1": "/redfish/v1/"})
                else:
                    self.authenticate()
                    self.reply(200, self.service_root())
                return
            sessions = "/redfish/v1/SessionService/Sessions"
            if path == sessions and self.command == "POST":
                self.login()
                return
            if not self.authenticate():
                self.reply(401, error_body("The authentication credentials included with this "
                                           "request are missing or invalid.",
                                           "Base.1.8.NoValidSession"),
                           [("WWW-Authenticate", 'Basic realm="RedfishService"')])
                return
            self.route(path)

    def service_root(self):
        root = {
            "@odata.id": "/redfish/v1/",
            "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
            "Id": "RootService",
            "Name": "Root Service",
            "RedfishVersion": "1.6.0",
            "UUID": "92384634-2938-2342-8820-489239905423",
            "Systems": {"@odata.id": "/redfish/v1/Systems"},
        }
        if State.sessions_enabled:
            root["SessionService"] = {"@odata.id": "/redfish/v1/SessionService"}
            root["Links"] = {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}
        if State.odd_shapes:
            root["Links"] = "none"
        return root

    def login(self):
        if not State.sessions_enabled:
            self.body()
            self.reply(405, error_body("The method is not allowed.", "Base.1.8.OperationNotAllowed"))
            return
        req = self.body() or {}
        if req.get("UserName") != State.user or req.get("Password") != State.password:
            self.reply(401, error_body("The authentication credentials included with this "
                                       "request are missing or invalid.",
                                       "Base.1.8.ResourceAtUriUnauthorized"))
            return
        token = secrets.token_hex(16)
        sid = str(State.next_session)
        State.next_session += 1
        State.sessions[token] = sid
        location = "/redfish/v1/SessionService/Sessions/" + sid
        self.reply(201, self.session(sid), [("X-Auth-Token", token), ("Location", location)])

    def session(self, sid):
        return {"@odata.id": "/redfish/v1/SessionService/Sessions/" + sid,
                "@odata.type": "#Session.v1_0_0.Session", "Id": sid, "Name": "Session",
                "UserName": State.user}

    def system(self):
        sid = State.system_id
        action = {"target": "/redfish/v1/Systems/%s/Actions/ComputerSystem.Reset" % sid}
        if State.action_info:
            action["@Redfish.ActionInfo"] = "/redfish/v1/Systems/%s/ResetActionInfo" % sid
        else:
            action["ResetType@Redfish.AllowableValues"] = State.reset_types
        return {
            "@odata.id": "/redfish/v1/Systems/" + sid,
            "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
            "Id": sid,
            "Name": "Standby",
            "SystemType": "Physical",
            "PowerState": State.power,
            "Status": {"State": "Enabled", "Health": "OK"},
            # Required by sushy's ComputerSystem, though no test boots from it.
            "Boot": {"BootSourceOverrideEnabled": "Disabled",
                     "BootSourceOverrideTarget": "None",
                     "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Hdd"]},
            "Actions": "none" if State.odd_shapes else {"#ComputerSystem.Reset": action},
        }

    def route(self, path):
        sid = State.system_id
        system = "/redfish/v1/Systems/" + sid
        get = self.command == "GET"
        if get and path == "/redfish/v1/Systems":
            self.reply(200, {"@odata.id": "/redfish/v1/Systems",
                             "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
                             "Name": "Computer System Collection",
                             "Members@odata.count": 1,
                             "Members": [{"@odata.id": system}]})
        elif get and path == system:
            self.reply(200, self.system())
        elif get and path == system + "/ResetActionInfo" and State.action_info:
            self.reply(200, {"@odata.id": system + "/ResetActionInfo",
                             "@odata.type": "#ActionInfo.v1_1_2.ActionInfo",
                             "Id": "ResetActionInfo", "Name": "Reset Action Info",
                             "Parameters": [{"Name": "ResetType", "Required": True,
                                             "DataType": "String",
                                             "AllowableValues": State.reset_types}]})
        elif path == system + "/Actions/ComputerSystem.Reset" and self.command == "POST":
            self.reset()
        elif get and path == "/redfish/v1/SessionService":
            self.reply(200, {"@odata.id": "/redfish/v1/SessionService",
                             "@odata.type": "#SessionService.v1_1_3.SessionService",
                             "Id": "SessionService", "Name": "Session Service",
                             "ServiceEnabled": True, "SessionTimeout": 600,
                             "Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}})
        elif get and path == "/redfish/v1/SessionService/Sessions":
            self.reply(200, {"@odata.id": path, "Name": "Sessions",
                             "@odata.type": "#SessionCollection.SessionCollection",
                             "Members@odata.count": len(State.sessions),
                             "Members": [{
      "@odata.id" : path + "/" + s}
                                         for s in State.sessions.values()]})
        elif path.startswith("/redfish/v1/SessionService/Sessions/"):
            sid_ = path.rsplit("/", 1)[1]
            tokens = [t for t, s in State.sessions.items() if s == sid_]
            if not tokens:
                self.reply(404, error_body("The resource was not found.",
                                           "Base.1.8.ResourceMissingAtURI"))
            elif self.command == "DELETE":
                del State.sessions[tokens[0]]
                self.reply(204)
            else:
                self.reply(200, self.session(sid_))
        elif get and path.startswith("/redfish/v1/TaskService/TaskMonitors/"):
            tid = path.rsplit("/", 1)[1]
            if tid not in State.tasks:
                self.reply(404, error_body("No such task.", "Base.1.8.ResourceMissingAtURI"))
            elif time.monotonic() < State.tasks[tid]:
                self.reply(202, {"@odata.id": "/redfish/v1/TaskService/Tasks/" + tid,
                                 "Id": tid, "TaskState": "Running"},
                           [("Location", path)])
            else:
                self.reply(200, {"@odata.id": "/redfish/v1/TaskService/Tasks/" + tid,
                                 "@odata.type": "#Task.v1_4_3.Task", "Id": tid,
                                 "Name": "Reset", "TaskState": "Completed",
                                 "TaskStatus": "OK"})
        else:
            self.reply(404, error_body("The resource at the URI %s was not found." % path,
                                       "Base.1.8.ResourceMissingAtURI"))

    def reset(self):
        req = self.body()
        kind = req.get("ResetType") if isinstance(req, dict) else None
        if kind not in State.reset_types:
            self.reply(400, error_body("The value %s for the property ResetType is not in the "
                                       "list of acceptable values." % json.dumps(kind),
                                       "Base.1.8.PropertyValueNotInList"))
            return
        was_on = State.power in ("On", "PoweringOn")
        if kind in ("On", "ForceOn") or (kind == "PushPowerButton" and not was_on):
            start_transition("On")
        elif kind in ("ForceOff", "GracefulShutdown") or kind == "PushPowerButton":
            start_transition("Off")
        elif kind == "ForceRestart":
            start_transition("On")
        if State.task:
            tid = str(State.next_task)
            State.next_task += 1
            State.tasks[tid] = time.monotonic() + State.delay_s
            monitor = "/redfish/v1/TaskService/TaskMonitors/" + tid
            self.reply(202, {"@odata.id": "/redfish/v1/TaskService/Tasks/" + tid, "Id": tid,
                             "TaskState": "Running"}, [("Location", monitor)])
        else:
            self.reply(204)

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()


def main():
    parser = argparse.ArgumentParser(description="A minimal Redfish service for the tests.")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", default=State.user)
    parser.add_argument("--password", default=State.password)
    parser.add_argument("--system-id", default=State.system_id)
    parser.add_argument("--state", default=State.power, choices=["On", "Off"])
    parser.add_argument("--power-delay-ms", type=int, default=0)
    parser.add_argument("--busy", type=int, default=0)
    parser.add_argument("--task", action="store_true")
    parser.add_argument("--no-sessions", action="store_true")
    parser.add_argument("--reset-types", default=",".join(State.reset_types))
    parser.add_argument("--action-info", action="store_true")
    parser.add_argument("--odd-shapes", action="store_true")
    parser.add_argument("--on-command")
    parser.add_argument("--off-command")
    parser.add_argument("--host-pidfile")
    parser.add_argument("--log")
    a = parser.parse_args()
    State.user, State.password, State.system_id = a.user, a.password, a.system_id
    State.power, State.delay_s, State.busy = a.state, a.power_delay_ms / 1000.0, a.busy
    State.task, State.sessions_enabled, State.action_info = a.task, not a.no_sessions, a.action_info
    State.odd_shapes = a.odd_shapes
    State.reset_types = [v for v in a.reset_types.split(",") if v]
    State.on_command, State.off_command = a.on_command, a.off_command
    State.host_pidfile, State.log = a.host_pidfile, a.log
    server = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(a.cert, a.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stderr.write("listening on %s:%d\n" % (a.bind, a.port))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()

# Generates the GB device sipp scenarios (run: python3 gen.py). Kept so the repeated SIP
# boilerplate is written once; the XML files are what the tests use.
dev = "34020000001320000001"
HDR = "34020000002000000001@3402000000"

def item(i, name):
    return (f"<Item><DeviceID>340200000013100000{i:02d}</DeviceID><Name>{name}</Name>"
            f"<Manufacturer>sipp</Manufacturer><Model>IPC</Model><Owner>0</Owner>"
            f"<CivilCode>340200</CivilCode><Address>Gate {i}</Address><Parental>0</Parental>"
            f"<ParentID>{dev}</ParentID><SafetyWay>0</SafetyWay><RegisterWay>1</RegisterWay>"
            f"<Secrecy>0</Secrecy><Status>ON</Status></Item>")

def catalog(items, enc):
    return (f'<?xml version="1.0" encoding="{enc}"?>\n<Response>\n<CmdType>Catalog</CmdType>\n'
            f'<SN>[$sn]</SN>\n<DeviceID>{dev}</DeviceID>\n<SumNum>7</SumNum>\n'
            f'<DeviceList Num="{len(items)}">\n' + "\n".join(items) + "\n</DeviceList>\n</Response>")

def msg(body, cseq, tag):
    return f"""  <send retrans="500">
    <![CDATA[
MESSAGE sip:{HDR} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
From: <sip:{dev}@3402000000>;tag=[pid]{tag}
To: <sip:{HDR}>
Call-ID: [call_id]
CSeq: {cseq} MESSAGE
Max-Forwards: 70
Content-Type: Application/MANSCDP+xml
Content-Length: [len]

{body}
    ]]>
  </send>
  <recv response="200"/>
"""

def reg(cseq, auth=None, expires=3600):
    a = f"\n[authentication username={dev} password={auth}]" if auth else ""
    return f"""  <send retrans="500">
    <![CDATA[
REGISTER sip:{HDR} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
From: <sip:{dev}@3402000000>;tag=[pid]reg
To: <sip:{dev}@3402000000>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:{dev}@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: sipp-gb-device
Expires: {expires}{a}
Content-Length: 0

    ]]>
  </send>
"""

OK200 = """  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]ok
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
"""
TAIL = '''  <ResponseTimeRepartition value="10, 20, 30, 40, 50, 100, 150, 200"/>
  <CallLengthRepartition value="10, 50, 100, 500, 1000, 5000, 10000"/>
</scenario>
'''

main = '''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- A GB/T 28181 device (IPC 34020000001320000001, password 12345678) against the custos
     platform: REGISTER with a wrong password first (403), then the right one (200 carrying a
     GB Date), two keepalives, then silence (the platform must mark it offline after 3 missed
     beats). The platform's queries arrive out of this call: see device_answers.xml (-oocsf). -->
<scenario name="gb device register keepalive">
'''
main += reg(1) + '  <recv response="401" auth="true"/>\n'
main += reg(2, "wrong") + '  <recv response="403"/>\n'
main += reg(3) + '  <recv response="401" auth="true"/>\n'
main += reg(4, "12345678")
main += '''  <recv response="200">
    <action>
      <ereg regexp="Date: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}" search_in="msg" check_it="true" assign_to="date"/>
    </action>
  </recv>
  <nop><action><log message="registered; platform [$date]"/></action></nop>
  <!-- The platform queries Catalog and DeviceInfo now; device_answers.xml answers them. -->
  <pause milliseconds="1500"/>
'''
for k in range(2):
    main += msg(f'<?xml version="1.0" encoding="GB2312"?>\n<Notify>\n<CmdType>Keepalive</CmdType>\n'
                f'<SN>{100+k}</SN>\n<DeviceID>{dev}</DeviceID>\n<Status>OK</Status>\n</Notify>', 20 + k, "ka")
    main += '  <pause milliseconds="300"/>\n'
main += TAIL
open("device_register.xml", "w").write(main)

names = ["Gate 1", "Gate 2", "Gate 3", "Lobby", "萳道 south", "Car park", "Roof"]
items = [item(i + 1, n) for i, n in enumerate(names)]
ooc = '''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- The GB device's answers to platform queries (each query is a new call for sipp, run as its
     out-of-call scenario): Catalog in 3 MESSAGEs (SumNum 7; the first two declare GB2312 but are
     UTF-8, as some devices send), or DeviceInfo. -->
<scenario name="gb device answers">
  <recv request="MESSAGE">
    <action>
      <ereg regexp="&lt;SN&gt;([0-9]+)&lt;/SN&gt;" search_in="body" check_it="true" assign_to="junk,sn"/>
      <ereg regexp="&lt;CmdType&gt;Catalog&lt;/CmdType&gt;" search_in="body" assign_to="iscatalog"/>
    </action>
  </recv>
'''
ooc += OK200
ooc += '  <nop><action><log message="query [$junk] catalog=[$iscatalog]"/></action></nop>\n'
ooc += '  <nop next="catalog" test="iscatalog"/>\n'
ooc += msg(f'<?xml version="1.0" encoding="GB2312"?>\n<Response>\n<CmdType>DeviceInfo</CmdType>\n'
           f'<SN>[$sn]</SN>\n<DeviceID>{dev}</DeviceID>\n<DeviceName>sipp IPC</DeviceName>\n'
           f'<Result>OK</Result>\n<Manufacturer>sipp</Manufacturer>\n<Model>GB-IPC</Model>\n'
           f'<Firmware>3.6</Firmware>\n<Channel>7</Channel>\n</Response>', 13, "di")
ooc += '  <nop next="end"/>\n  <label id="catalog"/>\n'
ooc += msg(catalog(items[0:3], "GB2312"), 10, "c1")
ooc += msg(catalog(items[3:6], "GB2312"), 11, "c2")
ooc += msg(catalog(items[6:7], "UTF-8"), 12, "c3")
ooc += '  <label id="end"/>\n' + TAIL
open("device_answers.xml", "w").write(ooc)

# Media: register, stay registered while the test streams, and answer the platform's INVITE.
media = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- A GB device that registers, raises one alarm and then stays silent; the test kills it
     when done. The INVITE is answered out of this call by device_invite.xml. -->
<scenario name="gb device registered">
"""
media += reg(1) + '  <recv response="401" auth="true"/>\n' + reg(2, "12345678")
media += '  <recv response="200"/>\n'
media += msg(f'<?xml version="1.0" encoding="GB2312"?>\n<Notify>\n<CmdType>Alarm</CmdType>\n<SN>3</SN>\n'
             f'<DeviceID>{dev}</DeviceID>\n<AlarmPriority>2</AlarmPriority>\n<AlarmMethod>2</AlarmMethod>\n'
             f'<AlarmTime>2026-11-27T10:00:00</AlarmTime>\n<AlarmDescription>door forced</AlarmDescription>\n</Notify>', 3, "al")
media += '  <pause milliseconds="120000"/>\n' + TAIL
open("device_media.xml", "w").write(media)

invite = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- The device's side of a live INVITE: answers with the platform's SSRC (y=) and the media
     port/transport/setup the test passes (-key mport, mproto, msetup); the test harness sends
     the PS over RTP itself. Ends on the platform's BYE. -->
<scenario name="gb device invite">
  <!-- A platform query (Catalog, DeviceInfo) is only acknowledged. -->
  <recv request="MESSAGE" optional="true" next="message"/>
  <recv request="INVITE">
    <action>
      <ereg regexp="y=([0-9]+)" search_in="body" check_it="true" assign_to="junk,ssrc"/>
      <ereg regexp="s=Play" search_in="body" check_it="true" assign_to="play"/>
    </action>
  </recv>
  <nop><action><log message="INVITE [$junk] [$play]"/></action></nop>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]inv
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:34020000001320000001@[local_ip]:[local_port]>
Content-Type: APPLICATION/SDP
Content-Length: [len]

v=0
o=34020000001320000001 0 0 IN IP4 127.0.0.1
s=Play
c=IN IP4 127.0.0.1
t=0 0
m=video [mport] [mproto] 96
a=sendonly
a=rtpmap:96 PS/90000
[msetup]
y=[$ssrc]
f=
    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
""" + OK200 + """  <nop next="end"/>
  <label id="message"/>
""" + OK200 + """  <label id="end"/>
""" + TAIL
open("device_invite.xml", "w").write(invite)

# Events: alarm, catalog NOTIFY (subscription), PTZ and subscription answers, unregister.
ev = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- A GB device that registers, waits while the test subscribes to its catalog and sends a
     PTZ command (answered by device_events_ooc.xml), then raises an alarm, NOTIFYs a catalog
     change (one channel added) and unregisters (Expires: 0). -->
<scenario name="gb device events">
"""
ev += reg(1) + '  <recv response="401" auth="true"/>\n' + reg(2, "12345678")
ev += '  <recv response="200"/>\n  <pause milliseconds="2000"/>\n'
ev += msg(f'<?xml version="1.0" encoding="GB2312"?>\n<Notify>\n<CmdType>Alarm</CmdType>\n<SN>5</SN>\n'
          f'<DeviceID>{dev}</DeviceID>\n<AlarmPriority>1</AlarmPriority>\n<AlarmMethod>5</AlarmMethod>\n'
          f'<AlarmTime>2026-11-27T10:00:00</AlarmTime>\n<AlarmDescription>motion</AlarmDescription>\n</Notify>', 5, "al")
ev += '  <pause milliseconds="300"/>\n'
ev += f"""  <send retrans="500">
    <![CDATA[
NOTIFY sip:{HDR} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
From: <sip:{dev}@3402000000>;tag=[pid]nt
To: <sip:{HDR}>
Call-ID: [call_id]
CSeq: 6 NOTIFY
Event: Catalog
Subscription-State: active;expires=60
Max-Forwards: 70
Content-Type: Application/MANSCDP+xml
Content-Length: [len]

<?xml version="1.0" encoding="UTF-8"?>
<Notify>
<CmdType>Catalog</CmdType>
<SN>6</SN>
<DeviceID>{dev}</DeviceID>
<SumNum>1</SumNum>
<DeviceList Num="1">
<Item><DeviceID>34020000001310000009</DeviceID><Name>New gate</Name><Status>ON</Status><Event>ADD</Event></Item>
</DeviceList>
</Notify>
    ]]>
  </send>
  <recv response="200"/>
"""
ev += reg(7, "12345678", 0) + '  <recv response="200"/>\n' + TAIL
open("device_events.xml", "w").write(ev)

def records(k):
    return (f'<?xml version="1.0" encoding="GB2312"?>\n<Response>\n<CmdType>RecordInfo</CmdType>\n<SN>[$sn]</SN>\n'
            f'<DeviceID>{dev}</DeviceID>\n<Name>cam</Name>\n<SumNum>2</SumNum>\n<RecordList Num="1">\n'
            f'<Item><DeviceID>{dev}</DeviceID><Name>cam</Name><FilePath>rec{k}</FilePath>'
            f'<StartTime>2026-11-27T0{k}:00:00</StartTime><EndTime>2026-11-27T0{k}:30:00</EndTime>'
            f'<Secrecy>0</Secrecy><Type>time</Type></Item>\n</RecordList>\n</Response>')

evooc = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- The device's answers to the platform's SUBSCRIBE (Catalog) and MESSAGEs (PTZ control, the
     platform's answer to an alarm); logs what it got for the test to check. -->
<scenario name="gb device events answers">
  <recv request="SUBSCRIBE" optional="true" next="subscribe"/>
  <recv request="MESSAGE">
    <action>
      <ereg regexp="&lt;CmdType&gt;([A-Za-z]+)&lt;" search_in="body" check_it="true" assign_to="m0,cmd"/>
      <ereg regexp="PTZCmd&gt;([0-9A-F]+)&lt;" search_in="body" assign_to="p0,ptz"/>
      <ereg regexp="&lt;SN&gt;([0-9]+)&lt;/SN&gt;" search_in="body" assign_to="sn0,sn"/>
      <ereg regexp="&lt;CmdType&gt;RecordInfo" search_in="body" assign_to="isrecords"/>
      <ereg regexp="&lt;CmdType&gt;DeviceStatus" search_in="body" assign_to="isstatus"/>
      <ereg regexp="&lt;StartTime&gt;([0-9T:-]+)&lt;" search_in="body" assign_to="st0,st"/>
    </action>
  </recv>
  <nop><action><log message="got [$m0] [$cmd] ptz=[$ptz] [$p0] [$sn0] [$st0] [$isrecords] [$isstatus] start=[$st]"/></action></nop>
""" + OK200 + """  <nop next="records" test="isrecords"/>
  <nop next="status" test="isstatus"/>
  <nop next="end"/>
  <label id="records"/>
""" + msg(records(1), 40, "r1") + msg(records(2), 41, "r2") + """  <nop next="end"/>
  <label id="status"/>
""" + msg(f'<?xml version="1.0" encoding="GB2312"?>\n<Response>\n<CmdType>DeviceStatus</CmdType>\n<SN>[$sn]</SN>\n'
          f'<DeviceID>{dev}</DeviceID>\n<Result>OK</Result>\n<Online>ONLINE</Online>\n<Status>OK</Status>\n'
          f'<Encode>ON</Encode>\n<Record>ON</Record>\n</Response>', 42, "st") + """  <nop next="end"/>
  <label id="subscribe"/>
  <nop><action><log message="got SUBSCRIBE"/></action></nop>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]sub
[last_Call-ID:]
[last_CSeq:]
Expires: 60
Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
""" + TAIL
open("device_events_ooc.xml", "w").write(evooc)

# Device playback: answer a Playback INVITE, then report the end of the file (MediaStatus 121).
pb = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- The device's side of a playback INVITE (s=Playback, u=, t=start end, history SSRC y=1...):
     answers with the platform's SSRC and media port [mport] over UDP, takes one playback control
     (INFO, MANSRTSP "PLAY ... Scale"), and after the -d pause of
     streaming (sent by the test) reports the end of the recording with MediaStatus 121; the
     platform must then BYE. -->
<scenario name="gb device playback">
  <recv request="MESSAGE" optional="true" next="message"/>
  <recv request="INVITE">
    <action>
      <ereg regexp="y=([0-9]+)" search_in="body" check_it="true" assign_to="y0,ssrc"/>
      <ereg regexp="s=([A-Za-z]+)" search_in="body" check_it="true" assign_to="s0,sname"/>
      <ereg regexp="t=([0-9]+ [0-9]+)" search_in="body" check_it="true" assign_to="t0,range"/>
      <ereg regexp="u=([0-9]+:0)" search_in="body" check_it="true" assign_to="u0,uri"/>
    </action>
  </recv>
  <nop><action><log message="INVITE [$y0] [$s0] [$t0] [$u0] ssrc=[$ssrc] s=[$sname] t=[$range] u=[$uri]"/></action></nop>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]pb
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:34020000001320000001@[local_ip]:[local_port]>
Content-Type: APPLICATION/SDP
Content-Length: [len]

v=0
o=34020000001320000001 0 0 IN IP4 127.0.0.1
s=Playback
c=IN IP4 127.0.0.1
t=[$range]
m=video [mport] RTP/AVP 96
a=sendonly
a=rtpmap:96 PS/90000
y=[$ssrc]
    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="INFO">
    <action>
      <ereg regexp="PLAY RTSP/1.0" search_in="body" check_it="true" assign_to="i0"/>
      <ereg regexp="Scale: ([0-9.]+)" search_in="body" check_it="true" assign_to="i1,scale"/>
      <ereg regexp="Content-Type: Application/MANSRTSP" search_in="msg" check_it="true" assign_to="i2"/>
    </action>
  </recv>
  <nop><action><log message="INFO [$i0] [$i1] [$i2] scale=[$scale]"/></action></nop>
""" + OK200 + """  <pause/>
""" + msg(f'<?xml version="1.0" encoding="GB2312"?>\n<Notify>\n<CmdType>MediaStatus</CmdType>\n<SN>9</SN>\n'
          f'<DeviceID>{dev}</DeviceID>\n<NotifyType>121</NotifyType>\n</Notify>', 30, "ms") + """  <recv request="BYE"/>
  <nop><action><log message="got BYE after MediaStatus"/></action></nop>
""" + OK200 + """  <nop next="end"/>
  <label id="message"/>
""" + OK200 + """  <label id="end"/>
""" + TAIL
open("device_playback.xml", "w").write(pb)

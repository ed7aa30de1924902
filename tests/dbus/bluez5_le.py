'''python3-dbusmock template: bluetoothd 5.66 as far as sotto's BlueZ backend uses it.

Run as `/usr/bin/python3 -m dbusmock --template tests/dbus/bluez5_le.py` on a private bus
(DBUS_SYSTEM_BUS_ADDRESS pointing at it). Extends the stock `bluez5` template (0.28.7) with:

* org.bluez.LEAdvertisingManager1 on every adapter. RegisterAdvertisement behaves like
  bluetoothd: it reads the caller's object back with Properties.GetAll, asynchronously, and only
  then replies; it validates Type, rejects duplicates (AlreadyExists), allows 5 instances
  (NotPermitted) and drops the advertisements of a client that leaves the bus.
* Discovery like bluetoothd with a filter: StartDiscovery needs a powered adapter (NotReady) and
  never touches Discoverable (the stock template sets it); power-off ends discovery and drops
  the registered advertisements.
* Test controls on org.bluez.Mock at "/": InjectAdvertisement (DuplicateData=true behaviour:
  InterfacesAdded once, then PropertiesChanged{RSSI, ServiceData} for every call, repeats
  included), EmitDeviceProperties (any property dict, for malformed types), SetPowered,
  SetDiscoverable, RefuseNextRegistration / RefuseNextDiscovery (a chosen BlueZ error),
  IgnoreNextRegistration (never answer), ReleaseAdvertisements (bluetoothd calls Release()), GetAdvertisements, GetCallLog,
  GetDiscoveryFilter.
'''

import dbus
from dbusmock import OBJECT_MANAGER_IFACE, mockobject
from dbusmock.templates import bluez5
from dbusmock.templates.bluez5 import *  # noqa: F401,F403  (re-export the stock D-Bus methods)

BUS_NAME = bluez5.BUS_NAME
MAIN_OBJ = bluez5.MAIN_OBJ
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

LE_ADV_MGR_IFACE = 'org.bluez.LEAdvertisingManager1'
LE_ADV_IFACE = 'org.bluez.LEAdvertisement1'
MOCK_IFACE = bluez5.BLUEZ_MOCK_IFACE
FD6F = '0000fd6f-0000-1000-8000-00805f9b34fb'
MAX_ADS = 5

CALL_LOG = []


def log_call(adapter, what):
    CALL_LOG.append('%s %s' % (adapter.path.rsplit('/', 1)[-1], what))


def load(mock, parameters):
    bluez5.load(mock, parameters)


def _emit_adapter_props(adapter, props):
    adapter.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
                       [bluez5.ADAPTER_IFACE, dbus.Dictionary(props, signature='sv'),
                        dbus.Array([], signature='s')])


def _start_discovery(adapter):
    log_call(adapter, 'StartDiscovery')
    if adapter.refuse_discovery:
        name, adapter.refuse_discovery = adapter.refuse_discovery, ''
        raise dbus.exceptions.DBusException('Refused by test', name=name)
    if not adapter.props[bluez5.ADAPTER_IFACE]['Powered']:
        raise dbus.exceptions.DBusException('Resource Not Ready', name='org.bluez.Error.NotReady')
    adapter.props[bluez5.ADAPTER_IFACE]['Discovering'] = dbus.Boolean(True, variant_level=1)
    _emit_adapter_props(adapter, {'Discovering': dbus.Boolean(True, variant_level=1)})


def _stop_discovery(adapter):
    log_call(adapter, 'StopDiscovery')
    if not adapter.props[bluez5.ADAPTER_IFACE]['Discovering']:
        raise dbus.exceptions.DBusException('Operation Not Authorized',
                                            name='org.bluez.Error.NotAuthorized')
    adapter.props[bluez5.ADAPTER_IFACE]['Discovering'] = dbus.Boolean(False, variant_level=1)
    _emit_adapter_props(adapter, {'Discovering': dbus.Boolean(False, variant_level=1)})


def _set_discovery_filter(adapter, discovery_filter):
    log_call(adapter, 'SetDiscoveryFilter')
    adapter.discovery_filter = discovery_filter


def _update_instances(adapter):
    adapter.props[LE_ADV_MGR_IFACE]['ActiveInstances'] = dbus.Byte(len(adapter.ads), variant_level=1)
    adapter.props[LE_ADV_MGR_IFACE]['SupportedInstances'] = dbus.Byte(MAX_ADS - len(adapter.ads),
                                                                      variant_level=1)


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='s')
def AddAdapter(self, device_name, system_name):
    path = bluez5.AddAdapter(self, device_name, system_name)
    adapter = mockobject.objects[path]
    adapter.ads = {}
    adapter.discovery_filter = dbus.Dictionary({}, signature='sv')
    adapter.refuse_next = ''
    adapter.ignore_next = False
    adapter.refuse_discovery = ''
    adapter.AddMethods(bluez5.ADAPTER_IFACE, [
        ('StartDiscovery', '', '', _start_discovery),
        ('StopDiscovery', '', '', _stop_discovery),
        ('SetDiscoveryFilter', 'a{sv}', '', _set_discovery_filter),
    ])
    adapter.AddProperties(LE_ADV_MGR_IFACE, {
        'ActiveInstances': dbus.Byte(0, variant_level=1),
        'SupportedInstances': dbus.Byte(MAX_ADS, variant_level=1),
        'SupportedIncludes': dbus.Array(['tx-power', 'appearance', 'local-name'],
                                        signature='s', variant_level=1)})
    return path


@dbus.service.method(LE_ADV_MGR_IFACE, in_signature='oa{sv}', out_signature='',
                     sender_keyword='sender', async_callbacks=('ok_cb', 'err_cb'))
def RegisterAdvertisement(adapter, path, options, sender=None, ok_cb=None, err_cb=None):
    if not hasattr(adapter, 'ads'):
        return err_cb(dbus.exceptions.DBusException('Not an adapter',
                                                    name='org.freedesktop.DBus.Error.UnknownMethod'))
    log_call(adapter, 'RegisterAdvertisement %s' % path)
    key = (str(sender), str(path))
    if adapter.ignore_next:
        adapter.ignore_next = False
        return None  # never answer: the caller must time out
    if adapter.refuse_next:
        name, adapter.refuse_next = adapter.refuse_next, ''
        return err_cb(dbus.exceptions.DBusException('Refused by test', name=name))
    if not adapter.props[bluez5.ADAPTER_IFACE]['Powered']:
        return err_cb(dbus.exceptions.DBusException('Not Ready', name='org.bluez.Error.NotReady'))
    if key in adapter.ads:
        return err_cb(dbus.exceptions.DBusException('Already Exists',
                                                    name='org.bluez.Error.AlreadyExists'))
    if len(adapter.ads) >= MAX_ADS:
        return err_cb(dbus.exceptions.DBusException('Maximum advertisements reached',
                                                    name='org.bluez.Error.NotPermitted'))

    def on_props(props):
        if str(props.get('Type', '')) not in ('broadcast', 'peripheral'):
            return err_cb(dbus.exceptions.DBusException('Failed to parse advertisement.',
                                                        name='org.bluez.Error.Failed'))
        if str(props.get('Type')) == 'broadcast' and bool(props.get('Discoverable', False)):
            return err_cb(dbus.exceptions.DBusException('Broadcast cannot set flags',
                                                        name='org.bluez.Error.Failed'))
        adapter.ads[key] = props
        _update_instances(adapter)

        def owner_changed(owner):
            if not owner and key in adapter.ads:  # bluetoothd forgets ads of departed clients
                del adapter.ads[key]
                _update_instances(adapter)
        adapter.connection.watch_name_owner(str(sender), owner_changed)
        ok_cb()

    def on_error(e):
        err_cb(dbus.exceptions.DBusException('Failed to parse advertisement: %s' % e,
                                             name='org.bluez.Error.Failed'))
    adapter.connection.call_async(str(sender), str(path), dbus.PROPERTIES_IFACE, 'GetAll',
                                  's', [LE_ADV_IFACE], on_props, on_error)
    return None


@dbus.service.method(LE_ADV_MGR_IFACE, in_signature='o', out_signature='', sender_keyword='sender')
def UnregisterAdvertisement(adapter, path, sender=None):
    if not hasattr(adapter, 'ads'):
        raise dbus.exceptions.DBusException('Not an adapter',
                                            name='org.freedesktop.DBus.Error.UnknownMethod')
    log_call(adapter, 'UnregisterAdvertisement %s' % path)
    key = (str(sender), str(path))
    if key not in adapter.ads:
        raise dbus.exceptions.DBusException('Does Not Exist', name='org.bluez.Error.DoesNotExist')
    del adapter.ads[key]
    _update_instances(adapter)


def _adapter(name):
    path = '/org/bluez/' + name
    if path not in mockobject.objects:
        raise dbus.exceptions.DBusException('No such adapter %s' % name,
                                            name='org.freedesktop.DBus.Mock.NameError')
    return mockobject.objects[path]


def _release_all(adapter):
    for (sender, path) in list(adapter.ads):
        adapter.connection.call_async(sender, path, LE_ADV_IFACE, 'Release', '', [],
                                      lambda *_: None, lambda *_: None)
    adapter.ads.clear()
    _update_instances(adapter)


@dbus.service.method(MOCK_IFACE, in_signature='sb', out_signature='')
def SetPowered(_self, adapter_name, powered):
    '''Power the adapter off (ends discovery, drops advertisements) or on.'''
    adapter = _adapter(adapter_name)
    props = {'Powered': dbus.Boolean(powered, variant_level=1)}
    adapter.props[bluez5.ADAPTER_IFACE]['Powered'] = dbus.Boolean(powered, variant_level=1)
    if not powered:
        adapter.ads.clear()
        _update_instances(adapter)
        if adapter.props[bluez5.ADAPTER_IFACE]['Discovering']:
            adapter.props[bluez5.ADAPTER_IFACE]['Discovering'] = dbus.Boolean(False, variant_level=1)
            props['Discovering'] = dbus.Boolean(False, variant_level=1)
    _emit_adapter_props(adapter, props)


@dbus.service.method(MOCK_IFACE, in_signature='sb', out_signature='')
def SetDiscoverable(_self, adapter_name, discoverable):
    '''Someone else (a desktop panel) makes the adapter discoverable.'''
    adapter = _adapter(adapter_name)
    adapter.props[bluez5.ADAPTER_IFACE]['Discoverable'] = dbus.Boolean(discoverable, variant_level=1)
    _emit_adapter_props(adapter, {'Discoverable': dbus.Boolean(discoverable, variant_level=1)})


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='')
def RefuseNextRegistration(_self, adapter_name, error_name):
    _adapter(adapter_name).refuse_next = str(error_name)


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='')
def RefuseNextDiscovery(_self, adapter_name, error_name):
    _adapter(adapter_name).refuse_discovery = str(error_name)


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def IgnoreNextRegistration(_self, adapter_name):
    _adapter(adapter_name).ignore_next = True


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def ReleaseAdvertisements(_self, adapter_name):
    '''bluetoothd drops every advertisement and calls Release() on each object.'''
    _release_all(_adapter(adapter_name))


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='a{sa{sv}}')
def GetAdvertisements(_self, adapter_name):
    adapter = _adapter(adapter_name)
    return dbus.Dictionary({o + p: dbus.Dictionary(v, signature='sv')
                            for (o, p), v in adapter.ads.items()}, signature='sa{sv}')


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='a{sv}')
def GetDiscoveryFilter(_self, adapter_name):
    return dbus.Dictionary(_adapter(adapter_name).discovery_filter, signature='sv')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='as')
def GetCallLog(_self):
    return dbus.Array(CALL_LOG, signature='s')


def _device(self, adapter_name, address, first_props):
    '''The device object for `address`; created with `first_props` (and InterfacesAdded) if new.'''
    adapter_path = '/org/bluez/' + adapter_name
    path = adapter_path + '/dev_' + address.replace(':', '_').upper()
    if path in mockobject.objects:
        return path, False
    props = {'Address': dbus.String(address, variant_level=1),
             'AddressType': dbus.String('random', variant_level=1),
             'Alias': dbus.String(address.replace(':', '-'), variant_level=1),
             'Paired': dbus.Boolean(False, variant_level=1),
             'Connected': dbus.Boolean(False, variant_level=1),
             'UUIDs': dbus.Array([FD6F], signature='s', variant_level=1),
             'Adapter': dbus.ObjectPath(adapter_path, variant_level=1)}
    props.update(first_props)
    self.AddObject(path, bluez5.DEVICE_IFACE, props, [])
    self.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                    [dbus.ObjectPath(path), {bluez5.DEVICE_IFACE: props}])
    return path, True


@dbus.service.method(MOCK_IFACE, in_signature='ssnsay', out_signature='s')
def InjectAdvertisement(self, adapter_name, address, rssi, uuid, service_data):
    '''One received advertisement with service data under `uuid` (BlueZ's 128-bit key form).'''
    sd = dbus.Dictionary({uuid: dbus.Array(service_data, signature='y', variant_level=1)},
                         signature='sv', variant_level=1)
    changed = {'RSSI': dbus.Int16(rssi, variant_level=1), 'ServiceData': sd}
    path, created = _device(self, adapter_name, address, changed)
    if not created:
        dev = mockobject.objects[path]
        dev.props[bluez5.DEVICE_IFACE].update(changed)
        dev.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
                       [bluez5.DEVICE_IFACE, dbus.Dictionary(changed, signature='sv'),
                        dbus.Array([], signature='s')])
    return path


@dbus.service.method(MOCK_IFACE, in_signature='ssa{sv}', out_signature='')
def EmitDeviceProperties(self, adapter_name, address, changed):
    '''A PropertiesChanged on the device with exactly `changed` (any types: for malformed input).'''
    path, _ = _device(self, adapter_name, address, {})
    mockobject.objects[path].EmitSignal(
        dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
        [bluez5.DEVICE_IFACE, dbus.Dictionary(changed, signature='sv'),
         dbus.Array([], signature='s')])


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def RemoveAdapterReleasing(self, adapter_name):
    '''Adapter unplugged: bluetoothd releases its advertisements, then removes the object.'''
    adapter = _adapter(adapter_name)
    _release_all(adapter)
    bluez5.RemoveAdapter(self, adapter_name)

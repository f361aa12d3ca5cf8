using { isthmus.bench as db } from '../db/schema';

// Read-only OData v4 service at /data, mirroring Isthmus' finance-and-operations-style endpoint.
@path: '/data'
@readonly
service DataService {
  entity CustomersV3 as projection on db.Customers;
}

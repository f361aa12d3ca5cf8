using { isthmus.bench.dataverse as db } from '../db/schema';

// Read-only OData v4 service at Isthmus' Dataverse Web API root, so both servers answer the same URLs.
@path: '/api/data/v9.2'
@readonly
service DataverseService {
  entity accounts as projection on db.Accounts;
}

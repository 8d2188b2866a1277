/* The aws module's one public header: the signed, retried call layer and
 * the clients built on it (docs/architecture.md §aws-layer). Other modules include only this. */
#ifndef CWX_AWS_AWS_H
#define CWX_AWS_AWS_H

#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/logs.h"
#include "aws/monitoring.h"
#include "aws/s3.h"
#include "aws/settings.h"
#include "aws/sigv4.h"
#include "aws/sns.h"
#include "aws/sts.h"

#endif

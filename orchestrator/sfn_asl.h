/* The Amazon States Language text of the machine `cwexport sfn` emits
 * (docs/step-functions.md). Private to orchestrator/sfn.c.
 *
 * The text is JSON written with backquotes for double quotes, so that it
 * reads as JSON here; sfn.c turns every ` into " and every @NAME@ into its
 * value before parsing it. Single quotes are ASL's own string literals
 * inside intrinsic functions (States.Format).
 *
 * The machine's input is {"Lanes": [{"Lane", "Region", "Bucket", "Lease",
 * "Jobs": [job]}]} ("Lease": {"Bucket", "Key", "TtlMs"} or null); a job is {"LogGroup", "LogStreamPrefix" (null when none),
 * "Window", "From", "To", "Prefix", "TaskName", "MarkerKey", "Poll" (the
 * waits in seconds before each poll), "PollLast" (the last index of
 * Poll)}. Inside a job the state is {"Job", "Bucket", "Lease", "Me" (the
 * execution's name)} plus what the steps add: Marker, Count {Polls, Failed,
 * Busy}, Task, Scan, Active, Holder, Held, Delay, Describe, Data,
 * MarkerDoc, Error. */
#ifndef CWX_ORCHESTRATOR_SFN_ASL_H
#define CWX_ORCHESTRATOR_SFN_ASL_H

/* A null test is written `IsNull: true` with the other branch as the
 * Default: aws-local-stepfunctions never matches `IsNull: false`. */

/* Transient failures of a call are retried as the SDKs' standard mode does
 * (3 attempts, backoff); the answers that are not transient are listed
 * first with no retry. */
#define CWX__ASL_RETRY_LOGS(extra)                                                             \
    "`Retry`: [{`ErrorEquals`: [`CloudWatchLogs.InvalidParameterException`, "                 \
    "`CloudWatchLogs.ResourceNotFoundException`, `CloudWatchLogs.InvalidOperationException`" \
    extra "], `MaxAttempts`: 0},"                                                              \
    " {`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, "               \
    "`BackoffRate`: 2}]"
#define CWX__ASL_RETRY_S3                                                                      \
    "`Retry`: [{`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, "       \
    "`BackoffRate`: 2}]"
#define CWX__ASL_CATCH(next)                                                                   \
    "`Catch`: [{`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, `Next`: `" next "`}]"
/* The outcome of a job: what the inner Map collects. */
#define CWX__ASL_OUTCOME(outcome, more)                                                        \
    "`Type`: `Pass`, `Parameters`: {`LogGroup.$`: `$.Job.LogGroup`, "                          \
    "`Window.$`: `$.Job.Window`, `Outcome`: `" outcome "`" more "}, `End`: true"
#define CWX__ASL_CREATE(name, stream)                                                          \
    "`" name "`: {`Type`: `Task`, "                                                            \
    "`Resource`: `arn:@PARTITION@:states:::aws-sdk:cloudwatchlogs:createExportTask`, "                \
    "`Parameters`: {`TaskName.$`: `$.Job.TaskName`, `LogGroupName.$`: `$.Job.LogGroup`, "      \
    stream "`From.$`: `$.Job.From`, `To.$`: `$.Job.To`, `Destination.$`: `$.Bucket`, "         \
    "`DestinationPrefix.$`: `$.Job.Prefix`}, "                                                 \
    "`ResultSelector`: {`TaskId.$`: `$.TaskId`}, `ResultPath`: `$.Task`, "                     \
    CWX__ASL_RETRY_LOGS(", `CloudWatchLogs.LimitExceededException`") ", "                     \
    "`Catch`: [{`ErrorEquals`: [`CloudWatchLogs.LimitExceededException`], "                   \
    "`ResultPath`: `$.Error`, `Next`: `SlotBusy`}, "                                           \
    "{`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, `Next`: `JobError`}], "          \
    "`Next`: `Created`},"
/* Count with one field changed (a Pass state can only set whole objects). */
#define CWX__ASL_COUNT(polls, failed, busy)                                                    \
    "`Parameters`: {" polls ", " failed ", " busy "}, `ResultPath`: `$.Count`"
#define CWX__ASL_POLLS "`Polls.$`: `$.Count.Polls`"
#define CWX__ASL_FAILED "`Failed.$`: `$.Count.Failed`"
#define CWX__ASL_BUSY "`Busy.$`: `$.Count.Busy`"

/* The lane lease of cwexport run: {"Bucket", "Key", "TtlMs"} in the lane
 * of the input, or null without one. Its body is the one cwexport run
 * writes; the machine's runner is {"host": "step-functions", "pid": 0,
 * "id": the execution's name}. */
#define CWX__ASL_LEASE_ERRORS "`S3.PreconditionFailedException`, `S3.NoSuchKeyException`"
#define CWX__ASL_LEASE_DOC(name, next)                                                         \
    "`" name "`: {`Type`: `Pass`, `Parameters`: {`cwexport_lease`: 1, `lane.$`: `$.Lane.Lane`, " \
    "`runner`: {`host`: `step-functions`, `pid`: 0, `id.$`: `$$.Execution.Name`}, "           \
    "`acquired.$`: `$$.State.EnteredTime`, `renewed.$`: `$$.State.EnteredTime`, "              \
    "`renews`: 0, `ttl_ms.$`: `$.Lane.Lease.TtlMs`}, `ResultPath`: `$.LeaseDoc`, "             \
    "`Next`: `" next "`},"
/* A renew of our lease (read it, check it is ours, write it back with
 * If-Match); lost → LeaseLost. */
#define CWX__ASL_RENEW(p, next)                                                                \
    "`" p "Read`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:getObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lease.Bucket`, `Key.$`: `$.Lease.Key`}, "                   \
    "`ResultSelector`: {`ETag.$`: `$.ETag`, `Doc.$`: `States.StringToJson($.Body)`}, "         \
    "`ResultPath`: `$.Held`, "                                                                 \
    "`Retry`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `MaxAttempts`: 0}, "               \
    "{`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, `BackoffRate`: 2}], " \
    "`Catch`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `ResultPath`: `$.Error`, "         \
    "`Next`: `LeaseLost`}, {`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, "          \
    "`Next`: `JobError`}], `Next`: `" p "Mine`},"                                              \
    "`" p "Mine`: {`Type`: `Choice`, `Choices`: [{`And`: ["                                    \
    "{`Variable`: `$.Held.Doc.runner.id`, `IsPresent`: true}, "                                \
    "{`Variable`: `$.Held.Doc.runner.id`, `StringEqualsPath`: `$.Me`}], "                      \
    "`Next`: `" p "Doc`}], `Default`: `LeaseLost`},"                                           \
    "`" p "Doc`: {`Type`: `Pass`, `Parameters`: {`cwexport_lease`: 1, "                        \
    "`lane.$`: `$.Held.Doc.lane`, `runner.$`: `$.Held.Doc.runner`, "                           \
    "`acquired.$`: `$.Held.Doc.acquired`, `renewed.$`: `$$.State.EnteredTime`, "               \
    "`renews.$`: `States.MathAdd($.Held.Doc.renews, 1)`, `ttl_ms.$`: `$.Held.Doc.ttl_ms`}, "   \
    "`ResultPath`: `$.Held.Next`, `Next`: `" p "Put`},"                                        \
    "`" p "Put`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:putObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lease.Bucket`, `Key.$`: `$.Lease.Key`, "                    \
    "`Body.$`: `States.JsonToString($.Held.Next)`, `IfMatch.$`: `$.Held.ETag`, "               \
    "`ContentType`: `application/json`}, `ResultPath`: null, "                                \
    "`Retry`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `MaxAttempts`: 0}, "               \
    "{`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, `BackoffRate`: 2}], " \
    "`Catch`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `ResultPath`: `$.Error`, "         \
    "`Next`: `LeaseLost`}, {`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, "          \
    "`Next`: `JobError`}], `Next`: `" next "`},"

/* One lane: take its lease (waiting while a runner holds it, taking it over
 * when its ETag stayed the same for ttl), run its windows, release it. */
#define CWX__ASL_LANE                                                                          \
    "{`StartAt`: `LeaseOn`, `ProcessorConfig`: {`Mode`: `INLINE`}, `States`: {"                \
    "`LeaseOn`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Lane.Lease`, `IsNull`: true, " \
    "`Next`: `Jobs`}], `Default`: `LeaseDoc`},"                                                \
    CWX__ASL_LEASE_DOC("LeaseDoc", "LeaseAcquire")                                              \
    "`LeaseAcquire`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:putObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lane.Lease.Bucket`, `Key.$`: `$.Lane.Lease.Key`, "          \
    "`Body.$`: `States.JsonToString($.LeaseDoc)`, `IfNoneMatch`: `*`, "                        \
    "`ContentType`: `application/json`}, `ResultPath`: null, "                                 \
    "`Retry`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `MaxAttempts`: 0}, "               \
    "{`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, `BackoffRate`: 2}], " \
    "`Catch`: [{`ErrorEquals`: [`S3.PreconditionFailedException`], `ResultPath`: null, "       \
    "`Next`: `LeaseWatch`}, {`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, "         \
    "`Next`: `LeaseError`}], `Next`: `Jobs`},"                                                 \
    "`LeaseWatch`: {`Type`: `Pass`, `Result`: {`ETag`: ``, `Same`: 0}, `ResultPath`: `$.Watch`, " \
    "`Next`: `LeaseWait`},"                                                                    \
    "`LeaseWait`: {`Type`: `Wait`, `Seconds`: @LEASE_WAIT@, `Next`: `LeaseRead`},"             \
    "`LeaseRead`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:getObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lane.Lease.Bucket`, `Key.$`: `$.Lane.Lease.Key`}, "         \
    "`ResultSelector`: {`ETag.$`: `$.ETag`}, `ResultPath`: `$.Holder`, "                       \
    "`Retry`: [{`ErrorEquals`: [`S3.NoSuchKeyException`], `MaxAttempts`: 0}, "                 \
    "{`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, `BackoffRate`: 2}], " \
    "`Catch`: [{`ErrorEquals`: [`S3.NoSuchKeyException`], `ResultPath`: null, "                \
    "`Next`: `LeaseDoc`}, {`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, "           \
    "`Next`: `LeaseError`}], `Next`: `LeaseSame`},"                                            \
    "`LeaseSame`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Holder.ETag`, "               \
    "`StringEqualsPath`: `$.Watch.ETag`, `Next`: `LeaseUnchanged`}], `Default`: `LeaseChanged`}," \
    "`LeaseChanged`: {`Type`: `Pass`, `Parameters`: {`ETag.$`: `$.Holder.ETag`, `Same`: 0}, "  \
    "`ResultPath`: `$.Watch`, `Next`: `LeaseWait`},"                                           \
    "`LeaseUnchanged`: {`Type`: `Pass`, `Parameters`: {`ETag.$`: `$.Watch.ETag`, "             \
    "`Same.$`: `States.MathAdd($.Watch.Same, 1)`}, `ResultPath`: `$.Watch`, `Next`: `LeaseStale`}," \
    "`LeaseStale`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Watch.Same`, "               \
    "`NumericGreaterThanEquals`: 2, `Next`: `LeaseTakeDoc`}], `Default`: `LeaseWait`},"        \
    CWX__ASL_LEASE_DOC("LeaseTakeDoc", "LeaseTake")                                             \
    "`LeaseTake`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:putObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lane.Lease.Bucket`, `Key.$`: `$.Lane.Lease.Key`, "          \
    "`Body.$`: `States.JsonToString($.LeaseDoc)`, `IfMatch.$`: `$.Watch.ETag`, "               \
    "`ContentType`: `application/json`}, `ResultPath`: null, "                                 \
    "`Retry`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `MaxAttempts`: 0}, "               \
    "{`ErrorEquals`: [`States.ALL`], `IntervalSeconds`: 2, `MaxAttempts`: 3, `BackoffRate`: 2}], " \
    "`Catch`: [{`ErrorEquals`: [" CWX__ASL_LEASE_ERRORS "], `ResultPath`: null, "              \
    "`Next`: `LeaseWatch`}, {`ErrorEquals`: [`States.ALL`], `ResultPath`: `$.Error`, "         \
    "`Next`: `LeaseError`}], `Next`: `Jobs`},"                                                 \
    "`LeaseError`: {`Type`: `Pass`, `Parameters`: {`Results.$`: `States.Array($.Error)`}, "    \
    "`OutputPath`: `$.Results`, `End`: true},"                                                 \
    "`Jobs`: {`Type`: `Map`, `ItemsPath`: `$.Lane.Jobs`, `MaxConcurrency`: 1, "                \
    "`ItemSelector`: {`Job.$`: `$$.Map.Item.Value`, `Bucket.$`: `$.Lane.Bucket`, "             \
    "`Lease.$`: `$.Lane.Lease`, `Me.$`: `$$.Execution.Name`}, "                                \
    "`ItemProcessor`: " CWX__ASL_JOB ", `ResultPath`: `$.Results`, `Next`: `LeaseEnd`},"       \
    "`LeaseEnd`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Lane.Lease`, `IsNull`: true, " \
    "`Next`: `LaneDone`}], `Default`: `ReleaseRead`},"                                         \
    "`ReleaseRead`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:getObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lane.Lease.Bucket`, `Key.$`: `$.Lane.Lease.Key`}, "         \
    "`ResultSelector`: {`ETag.$`: `$.ETag`, `Doc.$`: `States.StringToJson($.Body)`}, "         \
    "`ResultPath`: `$.Held`, " CWX__ASL_RETRY_S3 ", "                                          \
    "`Catch`: [{`ErrorEquals`: [`States.ALL`], `ResultPath`: null, `Next`: `LaneDone`}], "     \
    "`Next`: `ReleaseMine`},"                                                                  \
    "`ReleaseMine`: {`Type`: `Choice`, `Choices`: [{`And`: ["                                  \
    "{`Variable`: `$.Held.Doc.runner.id`, `IsPresent`: true}, "                                \
    "{`Variable`: `$.Held.Doc.runner.id`, `StringEqualsPath`: `$.LeaseDoc.runner.id`}], "      \
    "`Next`: `Release`}], `Default`: `LaneDone`},"                                             \
    "`Release`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:deleteObject`, " \
    "`Parameters`: {`Bucket.$`: `$.Lane.Lease.Bucket`, `Key.$`: `$.Lane.Lease.Key`, "          \
    "`IfMatch.$`: `$.Held.ETag`}, `ResultPath`: null, " CWX__ASL_RETRY_S3 ", "                 \
    "`Catch`: [{`ErrorEquals`: [`States.ALL`], `ResultPath`: null, `Next`: `LaneDone`}], "     \
    "`Next`: `LaneDone`},"                                                                     \
    "`LaneDone`: {`Type`: `Pass`, `OutputPath`: `$.Results`, `End`: true}"                     \
    "}}"

/* One job, from its marker check to its marker. */
#define CWX__ASL_JOB                                                                           \
    "{`StartAt`: `CheckMarker`, `ProcessorConfig`: {`Mode`: `INLINE`}, `States`: {"            \
    /* Done when the marker exists: a listing with the marker's key as   \
     * prefix answers the same in every SDK (HeadObject's "not found"    \
     * has no stable error name). */                                     \
    "`CheckMarker`: {`Type`: `Task`, "                                                         \
    "`Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:listObjectsV2`, "                                \
    "`Parameters`: {`Bucket.$`: `$.Bucket`, `Prefix.$`: `$.Job.MarkerKey`, `MaxKeys`: 1}, "    \
    "`ResultSelector`: {`KeyCount.$`: `$.KeyCount`}, `ResultPath`: `$.Marker`, "               \
    CWX__ASL_RETRY_S3 ", " CWX__ASL_CATCH("JobError") ", `Next`: `IsDone`},"                   \
    "`IsDone`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Marker.KeyCount`, "              \
    "`NumericGreaterThan`: 0, `Next`: `AlreadyDone`}], `Default`: `StartCount`},"              \
    "`AlreadyDone`: {" CWX__ASL_OUTCOME("done", "") "},"                                       \
    "`StartCount`: {`Type`: `Pass`, `Result`: {`Polls`: 0, `Failed`: 0, `Busy`: 0}, "          \
    "`ResultPath`: `$.Count`, `Next`: `Fence`},"                                               \
    /* Fencing: with a lane lease, a task is created only right after a \
     * renew of it succeeded. */                                          \
    "`Fence`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Lease`, `IsNull`: true, "         \
    "`Next`: `HasStreamPrefix`}], `Default`: `FenceRead`},"                                     \
    CWX__ASL_RENEW("Fence", "HasStreamPrefix")                                                  \
    "`LeaseLost`: {" CWX__ASL_OUTCOME("lease_lost", "") "},"                                   \
    "`HasStreamPrefix`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Job.LogStreamPrefix`, " \
    "`IsNull`: true, `Next`: `Create`}], `Default`: `CreateWithStreamPrefix`},"               \
    CWX__ASL_CREATE("Create", "")                                                              \
    CWX__ASL_CREATE("CreateWithStreamPrefix", "`LogStreamNamePrefix.$`: `$.Job.LogStreamPrefix`, ") \
    /* Slot busy: adopt our own active task, else wait out the holder; \
     * the loop guard's cap bounds the creates. */                        \
    "`SlotBusy`: {`Type`: `Pass`, "                                                            \
    CWX__ASL_COUNT(CWX__ASL_POLLS, CWX__ASL_FAILED,                                            \
                   "`Busy.$`: `States.MathAdd($.Count.Busy, 1)`") ", `Next`: `BusyCap`},"            \
    "`BusyCap`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Count.Busy`, "                  \
    "`NumericGreaterThanEquals`: @CREATE_CAP@, `Next`: `LoopGuard`}], `Default`: `ScanRunning`}," \
    "`LoopGuard`: {" CWX__ASL_OUTCOME("loop_guard", ", `Creates.$`: `$.Count.Busy`") "},"      \
    "`ScanRunning`: {`Type`: `Pass`, `Result`: {`Status`: `RUNNING`}, `ResultPath`: `$.Scan`, " \
    "`Next`: `ListActive`},"                                                                   \
    "`ListActive`: {`Type`: `Task`, "                                                          \
    "`Resource`: `arn:@PARTITION@:states:::aws-sdk:cloudwatchlogs:describeExportTasks`, "             \
    "`Parameters`: {`StatusCode.$`: `$.Scan.Status`, `Limit`: 50}, "                           \
    "`ResultSelector`: {`Tasks.$`: `$.ExportTasks`}, `ResultPath`: `$.Active`, "               \
    CWX__ASL_RETRY_LOGS("") ", " CWX__ASL_CATCH("JobError") ", `Next`: `ScanStart`},"          \
    "`ScanStart`: {`Type`: `Pass`, `Parameters`: {`Status.$`: `$.Scan.Status`, `Idx`: 0, "     \
    "`Len.$`: `States.ArrayLength($.Active.Tasks)`}, `ResultPath`: `$.Scan`, "                 \
    "`Next`: `ScanNext`},"                                                                     \
    "`ScanNext`: {`Type`: `Choice`, `Choices`: ["                                              \
    "{`Variable`: `$.Scan.Idx`, `NumericLessThanPath`: `$.Scan.Len`, `Next`: `ScanItem`},"     \
    "{`Variable`: `$.Scan.Len`, `NumericGreaterThan`: 0, `Next`: `WaitHolder`},"               \
    "{`Variable`: `$.Scan.Status`, `StringEquals`: `RUNNING`, `Next`: `ScanPending`}], "       \
    "`Default`: `SlotWait`},"                                                                  \
    "`ScanPending`: {`Type`: `Pass`, `Result`: {`Status`: `PENDING`}, `ResultPath`: `$.Scan`, " \
    "`Next`: `ListActive`},"                                                                   \
    "`ScanItem`: {`Type`: `Pass`, `Parameters`: {`Status.$`: `$.Scan.Status`, "                \
    "`Idx.$`: `States.MathAdd($.Scan.Idx, 1)`, `Len.$`: `$.Scan.Len`, "                        \
    "`Task.$`: `States.ArrayGetItem($.Active.Tasks, $.Scan.Idx)`}, `ResultPath`: `$.Scan`, "   \
    "`Next`: `IsOurs`},"                                                                       \
    "`IsOurs`: {`Type`: `Choice`, `Choices`: [{`And`: ["                                       \
    "{`Variable`: `$.Scan.Task.TaskName`, `IsPresent`: true}, "                                \
    "{`Variable`: `$.Scan.Task.TaskName`, `StringEqualsPath`: `$.Job.TaskName`}], "            \
    "`Next`: `Adopt`}], `Default`: `ScanNext`},"                                               \
    "`Adopt`: {`Type`: `Pass`, `Parameters`: {`TaskId.$`: `$.Scan.Task.TaskId`}, "             \
    "`ResultPath`: `$.Task`, `Next`: `Created`},"                                              \
    "`WaitHolder`: {`Type`: `Wait`, `Seconds`: @HOLDER_WAIT@, `Next`: `DescribeHolder`},"      \
    "`DescribeHolder`: {`Type`: `Task`, "                                                      \
    "`Resource`: `arn:@PARTITION@:states:::aws-sdk:cloudwatchlogs:describeExportTasks`, "             \
    "`Parameters`: {`TaskId.$`: `$.Scan.Task.TaskId`}, "                                       \
    "`ResultSelector`: {`Status.$`: `$.ExportTasks[0].Status.Code`}, `ResultPath`: `$.Holder`, " \
    CWX__ASL_RETRY_LOGS("") ", " CWX__ASL_CATCH("SlotWait") ", `Next`: `HolderActive`},"       \
    "`HolderActive`: {`Type`: `Choice`, `Choices`: [{`Or`: ["                                  \
    "{`Variable`: `$.Holder.Status`, `StringEquals`: `PENDING`}, "                             \
    "{`Variable`: `$.Holder.Status`, `StringEquals`: `RUNNING`}], `Next`: `WaitHolder`}], "    \
    "`Default`: `Fence`},"                                                                     \
    "`SlotWait`: {`Type`: `Wait`, `Seconds`: @HOLDER_WAIT@, `Next`: `Fence`},"                 \
    /* The poll loop: the waits come from the job's schedule, the last  \
     * one repeated. */                                                  \
    "`Created`: {`Type`: `Pass`, "                                                             \
    CWX__ASL_COUNT("`Polls`: 0", CWX__ASL_FAILED, CWX__ASL_BUSY) ", `Next`: `PollDelay`}," \
    "`PollDelay`: {`Type`: `Pass`, "                                                           \
    "`Parameters`: {`Seconds.$`: `States.ArrayGetItem($.Job.Poll, $.Count.Polls)`}, "          \
    "`ResultPath`: `$.Delay`, `Next`: `PollWait`},"                                            \
    "`PollWait`: {`Type`: `Wait`, `SecondsPath`: `$.Delay.Seconds`, `Next`: `Describe`},"      \
    "`Describe`: {`Type`: `Task`, "                                                            \
    "`Resource`: `arn:@PARTITION@:states:::aws-sdk:cloudwatchlogs:describeExportTasks`, "             \
    "`Parameters`: {`TaskId.$`: `$.Task.TaskId`}, "                                            \
    "`ResultSelector`: {`Status.$`: `$.ExportTasks[0].Status.Code`, "                          \
    "`Info.$`: `$.ExportTasks[0].ExecutionInfo`}, `ResultPath`: `$.Describe`, "                \
    CWX__ASL_RETRY_LOGS("") ", " CWX__ASL_CATCH("JobError") ", `Next`: `TaskState`},"          \
    "`TaskState`: {`Type`: `Choice`, `Choices`: ["                                             \
    "{`Variable`: `$.Describe.Status`, `StringEquals`: `COMPLETED`, `Next`: `ListData`},"      \
    "{`Variable`: `$.Describe.Status`, `StringEquals`: `FAILED`, `Next`: `TaskFailed`},"       \
    "{`Variable`: `$.Describe.Status`, `StringEquals`: `CANCELLED`, `Next`: `TaskFailed`}], "  \
    "`Default`: `RenewDue`},"                                                                  \
    /* With a lane lease, every poll renews it. */                       \
    "`RenewDue`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Lease`, `IsNull`: true, "      \
    "`Next`: `PollNext`}], `Default`: `RenewRead`},"                                            \
    CWX__ASL_RENEW("Renew", "PollNext")                                                         \
    "`PollNext`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Count.Polls`, "                \
    "`NumericLessThanPath`: `$.Job.PollLast`, `Next`: `PollCount`}], `Default`: `PollDelay`}," \
    "`PollCount`: {`Type`: `Pass`, "                                                           \
    CWX__ASL_COUNT("`Polls.$`: `States.MathAdd($.Count.Polls, 1)`", CWX__ASL_FAILED,      \
                   CWX__ASL_BUSY) ", `Next`: `PollDelay`},"                             \
    /* FAILED: created again up to max_attempts, then recorded. */       \
    "`TaskFailed`: {`Type`: `Pass`, "                                                          \
    CWX__ASL_COUNT("`Polls`: 0", "`Failed.$`: `States.MathAdd($.Count.Failed, 1)`",         \
                   CWX__ASL_BUSY)    \
    ", `Next`: `FailedCap`},"                                                                  \
    "`FailedCap`: {`Type`: `Choice`, `Choices`: [{`Variable`: `$.Count.Failed`, "              \
    "`NumericGreaterThanEquals`: @MAX_ATTEMPTS@, `Next`: `JobFailed`}], `Default`: `Backoff`}," \
    "`Backoff`: {`Type`: `Wait`, `Seconds`: @BACKOFF@, `Next`: `Fence`},"                      \
    "`JobFailed`: {" CWX__ASL_OUTCOME("failed", ", `TaskId.$`: `$.Task.TaskId`, "              \
                                      "`Attempts.$`: `$.Count.Failed`") "},"                   \
    /* COMPLETED: list what it wrote, then the marker, as the CLI does. */ \
    "`ListData`: {`Type`: `Task`, "                                                            \
    "`Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:listObjectsV2`, "                                \
    "`Parameters`: {`Bucket.$`: `$.Bucket`, "                                                  \
    "`Prefix.$`: `States.Format('{}/{}/', $.Job.Prefix, $.Task.TaskId)`}, "                    \
    "`ResultSelector`: {`KeyCount.$`: `$.KeyCount`}, `ResultPath`: `$.Data`, "                 \
    CWX__ASL_RETRY_S3 ", " CWX__ASL_CATCH("JobError") ", `Next`: `MarkerDoc`},"                \
    "`MarkerDoc`: {`Type`: `Pass`, `Parameters`: {`marker_version`: 1, "                       \
    "`cwexport_version`: @VERSION@, `account`: @ACCOUNT@, `account_id`: @ACCOUNT_ID@, "        \
    "`region`: @REGION@, `log_group.$`: `$.Job.LogGroup`, "                                    \
    "`log_stream_prefix.$`: `$.Job.LogStreamPrefix`, `window.$`: `$.Job.Window`, "             \
    "`from.$`: `$.Job.From`, `to.$`: `$.Job.To`, `bucket.$`: `$.Bucket`, "                     \
    "`prefix.$`: `$.Job.Prefix`, `task_id.$`: `$.Task.TaskId`, "                               \
    "`task_name.$`: `$.Job.TaskName`, `objects.$`: `$.Data.KeyCount`, `bytes`: null, "         \
    "`task_creation_time.$`: `$.Describe.Info.CreationTime`, `task_created_at`: null, "        \
    "`task_completion_time.$`: `$.Describe.Info.CompletionTime`, `task_completed_at`: null, "  \
    "`marked_time`: null, `marked_at.$`: `$$.State.EnteredTime`, "                             \
    "`marked_by`: `step-functions`}, `ResultPath`: `$.MarkerDoc`, `Next`: `PutMarker`},"       \
    "`PutMarker`: {`Type`: `Task`, `Resource`: `arn:@PARTITION@:states:::aws-sdk:s3:putObject`, "      \
    "`Parameters`: {`Bucket.$`: `$.Bucket`, `Key.$`: `$.Job.MarkerKey`, "                      \
    "`Body.$`: `States.JsonToString($.MarkerDoc)`, `ContentType`: `application/json`}, "       \
    "`ResultPath`: null, " CWX__ASL_RETRY_S3 ", " CWX__ASL_CATCH("JobError") ", "              \
    "`Next`: `Exported`},"                                                                     \
    "`Exported`: {" CWX__ASL_OUTCOME("exported", ", `TaskId.$`: `$.Task.TaskId`") "},"         \
    "`JobError`: {" CWX__ASL_OUTCOME("error", ", `Error.$`: `$.Error.Error`, "                 \
                                     "`Cause.$`: `$.Error.Cause`") "}"                          \
    "}}"

/* The machine: every lane at once, the jobs of a lane one at a time. */
#define CWX__ASL_MACHINE                                                                       \
    "{`Comment`: @COMMENT@, `StartAt`: `Lanes`, `States`: {"                                   \
    "`Lanes`: {`Type`: `Map`, `ItemsPath`: `$.Lanes`, `MaxConcurrency`: 0, "                   \
    "`ItemSelector`: {`Lane.$`: `$$.Map.Item.Value`}, "                                        \
    "`ItemProcessor`: " CWX__ASL_LANE ", `End`: true}"                                         \
    "}}"

#endif

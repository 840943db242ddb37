/** Vigil's public API: the runtime, the machines, the ports and their types. */
export { createRuntime, type Runtime, type RuntimeOptions, type StartOptions } from './create-runtime.ts';
export {
  type InProcessApi,
  type RulesApi,
  type AlertsApi,
  type RuleInput,
  type RulePatch,
  type ReadingInput,
  type IngestSummary,
  type AlertEventQuery,
} from './runtime/in-process-api.ts';
export type { AlertStats, FiringRule } from './runtime/alerts/alert-stats.ts';
export type { Rule } from './domain/rule.ts';
export type { AlertEvent } from './domain/alert-event.ts';
export { loadConfig, type Config, type ConfigSource, type MqttConfig } from './config/index.ts';
export { ConfigError, ValidationError, BrokerError, StoreError, NotFoundError, DeliveryError, VigilError } from './errors.ts';
export { publisherMachine, type PublisherInput, type PublisherEvent } from './actors/publisher.ts';
export { subscriberMachine, type SubscriberInput, type SubscriberEvent } from './actors/subscriber.ts';
export { notifierMachine, type NotifierInput, type NotifierEvent } from './actors/notifier.ts';
export { pluginHealthMachine, type PluginHealthInput, type PluginHealthEvent } from './actors/plugin-health.ts';
export { propagatorMachine, type PropagatorInput, type PropagatorEvent } from './actors/propagator.ts';
export { periodicJobMachine, type PeriodicJobInput, type PeriodicJobEvent } from './actors/periodic-job.ts';
export { silenceMachine, type SilenceActorInput, type SilenceEvent } from './actors/silence.ts';
export type { Channel, Outgoing } from './channels/channel.ts';
export type { Broker, Batch, BrokerMessage, ConsumeOptions, PublishReceipt } from './streams/broker.ts';
export type { Store, SeenMessage } from './storage/store.ts';
export type { ActorChange, ActorView } from './runtime/registry.ts';
export type { TopicHandler, RejectedMessage } from './runtime/topic-handler.ts';
export { ticks, type Tick } from './streams/ticks.ts';

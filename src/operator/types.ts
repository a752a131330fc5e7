// What the operator's actions share: who asked through which door (the same shape as the camera
// settings' origin, src/service/camera-settings.ts), the authorisation hook every action passes,
// and the errors an action answers with (each maps to an HTTP status and an MQTT error response).

/** Which door an action came through, and who asked where the door can tell. */
export interface ActionOrigin {
  door: 'mqtt' | 'sparkplug' | 'dashboard';
  /** The MQTT client or Sparkplug host, where the door can tell. */
  clientId?: string;
  /** The signed-in dashboard user. */
  user?: string;
}

export type OperatorAction = 'acknowledge' | 'review' | 'suspend' | 'resume';

/** Throws (an OperatorError with status 403) to refuse an action; the default allows every one. */
export type Authorise = (action: OperatorAction, cameraId: string, origin: ActionOrigin) => void;

export const allowAll: Authorise = () => undefined;

/** Who did it, as stored and published: the user, else the client, else the door. */
export function actorOf(origin: ActionOrigin): string {
  return origin.user ?? (origin.clientId ? `${origin.door}:${origin.clientId}` : origin.door);
}

export class OperatorError extends Error {
  override name = 'OperatorError';
  constructor(
    /** 400 bad request, 403 refused, 404 unknown target, 409 conflicts with the state, 503 unavailable. */
    readonly status: 400 | 403 | 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

"""neuromod-gym: Gymnasium tasks that emit the signals neuromodulators respond to.

Importing the package registers the tasks as ``neuromod_gym/<Name>-v0``::

    import gymnasium as gym
    import neuromod_gym

    env = gym.make("neuromod_gym/ReversalBandit-v0")
"""

from neuromod_gym.envs import register_tasks, task_ids
from neuromod_gym.signals import NeuromodulatorySignals, validate_info

__version__ = "0.1.0"

register_tasks()

__all__ = ["NeuromodulatorySignals", "validate_info", "task_ids", "__version__"]
